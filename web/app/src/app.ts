// What every screen gets: the unlocked session, navigation, the
// confirmation step for transactions, and a polite status message.

import type { Key } from "./i18n.js";
import type { Payload } from "./lib.js";
import type { Session } from "./session.js";

export interface View {
  /** The screen's heading (catalogue key). */
  title: Key;
  /** Builds the screen from the session's current data. */
  render(): HTMLElement;
  /** Whether to rebuild it when the ledger's data changes (false for forms). */
  live: boolean;
}

export interface Ctx {
  session: Session;
  /** The current route's query (`#/grant?enterprise=…`). */
  query: URLSearchParams;
  go(route: string): void;
  /** Rebuilds the current screen. */
  rerender(): void;
  /**
   * Shows what the tx says (decoded from its bytes), signs and sends it on
   * confirmation and reports the ledger's verdict; true when committed.
   */
  sign(payload: Payload | ((nonce: number) => Promise<Payload>)): Promise<boolean>;
  /**
   * Announces a message in the status area (read out by screen readers):
   * `words` renders it from the catalogue, again after a change of language;
   * navigating to another screen clears it.
   */
  say(words: () => string, kind?: "ok" | "error"): void;
  lock(): void;
}
