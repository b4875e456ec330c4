// The rep's audio choices (mic, speakers, far-end source), kept in this browser profile.
// `null` means "the system default", so the app follows the OS when the user never chose.

export const AUDIO_KEY = "cuecard.audio";

/** Where the far end comes from in calls Cuecard did not place. */
export type FarEndSource = "loopback" | "none";

export type AudioChoices = {
  mic: string | null;
  output: string | null;
  farEnd: FarEndSource;
};

export const DEFAULT_AUDIO: AudioChoices = { mic: null, output: null, farEnd: "loopback" };

export function getAudioChoices(): AudioChoices {
  try {
    const raw = window.localStorage.getItem(AUDIO_KEY);
    if (!raw) return DEFAULT_AUDIO;
    const v = JSON.parse(raw) as Partial<AudioChoices>;
    return {
      mic: typeof v.mic === "string" ? v.mic : null,
      output: typeof v.output === "string" ? v.output : null,
      farEnd: v.farEnd === "none" ? "none" : "loopback",
    };
  } catch {
    return DEFAULT_AUDIO;
  }
}

export function setAudioChoices(choices: AudioChoices): void {
  try {
    window.localStorage.setItem(AUDIO_KEY, JSON.stringify(choices));
  } catch {
    // Storage unavailable: the choice lasts for this screen only.
  }
}
