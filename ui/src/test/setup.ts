// Vitest setup: unmount React trees between tests and give jsdom a requestAnimationFrame.
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

afterEach(() => {
  cleanup();
  window.localStorage.clear();
});

if (typeof window.requestAnimationFrame !== "function") {
  window.requestAnimationFrame = (cb: FrameRequestCallback) =>
    window.setTimeout(() => cb(performance.now()), 0);
}
