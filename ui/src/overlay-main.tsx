// Entry point of the coaching overlay window (overlay.html).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { Overlay } from "./overlay/Overlay";
import "./styles.css";

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Overlay />
  </StrictMode>,
);
