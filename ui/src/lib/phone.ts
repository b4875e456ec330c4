// The phone's board (registration and calls) for any component: fetched once, then kept
// from the PhoneEvent the app sends after every change; plus the words the phone screens
// use for states, outcomes and call quality.
import { useEffect, useState } from "react";
import { commands, events } from "../bindings";
import type { Board, CallState, CallStatus, CallView, PhoneNotice, QualityGrade, Registration } from "../bindings";
import { getAudioChoices } from "./audioSettings";

export const EMPTY_BOARD: Board = { account: null, registration: { state: "offline" }, calls: [] };

export type PhoneFeed = { board: Board; notice: PhoneNotice | null; noticeId: number };

/** The board, live. */
export function usePhoneBoard(): PhoneFeed {
  const [feed, setFeed] = useState<PhoneFeed>({ board: EMPTY_BOARD, notice: null, noticeId: 0 });
  useEffect(() => {
    let cancelled = false;
    let unlisten: (() => void) | null = null;
    void events.phoneEvent
      .listen((e) => {
        setFeed((f) => ({
          board: e.payload.board,
          notice: e.payload.notice ?? f.notice,
          noticeId: e.payload.notice ? f.noticeId + 1 : f.noticeId,
        }));
      })
      .then((u) => {
        if (cancelled) u();
        else unlisten = u;
      });
    commands
      .phoneBoard()
      .then((board) => {
        if (!cancelled) setFeed((f) => ({ ...f, board }));
      })
      .catch(() => {});
    return () => {
      cancelled = true;
      unlisten?.();
    };
  }, []);
  return feed;
}

/** The call the in-call screen shows: the live one, else none. */
export function activeCall(board: Board): CallView | null {
  return board.calls.find((c) => c.state !== "ended" && c.state !== "incoming") ?? null;
}

/** An incoming call waiting to be answered. */
export function ringingIn(board: Board): CallView | null {
  return board.calls.find((c) => c.state === "incoming") ?? null;
}

/** Devices and coaching for a call, from Settings → Audio and the dialer's switch. */
export function callOptions(coach: boolean) {
  const audio = getAudioChoices();
  return { mic: audio.mic, speaker: audio.output, coach };
}

export const COACH_KEY = "cuecard.phone.coach";

export function getCoachCalls(): boolean {
  try {
    return window.localStorage.getItem(COACH_KEY) !== "off";
  } catch {
    return true;
  }
}

export function setCoachCalls(on: boolean): void {
  try {
    window.localStorage.setItem(COACH_KEY, on ? "on" : "off");
  } catch {
    // Storage unavailable: the choice lasts for this screen only.
  }
}

export function registrationText(r: Registration): string {
  switch (r.state) {
    case "offline":
      return "Offline";
    case "connecting":
      return "Connecting…";
    case "online":
      return "Online";
    case "failed":
      return r.unauthorized ? "Wrong SIP user name or password" : `Not connected: ${r.message}`;
  }
}

export function callStateText(state: CallState): string {
  switch (state) {
    case "dialing":
      return "Calling…";
    case "ringing":
      return "Ringing…";
    case "incoming":
      return "Incoming call";
    case "connected":
      return "Connected";
    case "ended":
      return "Call ended";
  }
}

export function outcomeText(status: CallStatus): string {
  switch (status) {
    case "completed":
      return "Completed";
    case "busy":
      return "Busy";
    case "no_answer":
      return "No answer";
    case "failed":
      return "Failed";
    case "canceled":
      return "Canceled";
    case "dialing":
      return "Dialing";
    case "ringing":
      return "Ringing";
    case "in_progress":
      return "In progress";
  }
}

export function gradeText(grade: QualityGrade): string {
  return grade === "good" ? "Good" : grade === "fair" ? "Fair" : "Poor";
}

/** Who a call is with, for headings. */
export function callee(c: Pick<CallView, "contact_name" | "remote_display" | "remote">): string {
  return c.contact_name ?? c.remote_display ?? prettyAddress(c.remote);
}

/** `sip:+1555…@domain` → `+1555…`; other addresses unchanged. */
export function prettyAddress(address: string): string {
  const m = /^sips?:([^@;]+)@/i.exec(address.trim());
  return m ? m[1] : address;
}

/** What one toast-worthy notice says. */
export function noticeText(n: PhoneNotice): string {
  switch (n.kind) {
    case "dtmf":
      return `The other side pressed ${n.digit}`;
    case "ended":
    case "audio_failed":
      return n.message;
    case "transferred":
      return `The other side is transferring the call to ${prettyAddress(n.target)}`;
  }
}
