// The account's live event stream, `GET /v1/events` (server-sent events),
// read with fetch and a body reader: EventSource cannot send the signed-read
// headers. Each (re)connection is signed afresh (a signature is good once)
// and resumes after the last cursor seen (`?from=HEIGHT:INDEX`,
// node/src/api/events.rs); a `gap` event moves the cursor to its
// `resume_from`.

import { signRead, type SigningKey } from "./lib.js";
import { SseParser, type SseEvent } from "./sse.js";

export interface StreamHandlers {
  /** The stream is open (the node answered). */
  up(): void;
  /** The node could not be reached, or the stream ended. */
  down(): void;
  /** A ledger event that names this account. */
  event(e: SseEvent): void;
}

export class EventStream {
  private cursor: string | null = null;
  private running = false;
  private abort: AbortController | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly key: SigningKey,
    private readonly chainId: string,
    private readonly on: StreamHandlers,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  stop(): void {
    this.running = false;
    this.abort?.abort();
    this.wake?.();
  }

  /** Reconnects now instead of waiting out the back-off. */
  retry(): void {
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let backoff = 500;
    while (this.running) {
      const target = this.cursor ? `/v1/events?from=${encodeURIComponent(this.cursor)}` : "/v1/events";
      this.abort = new AbortController();
      try {
        const headers = await signRead(this.key, this.chainId, "GET", target);
        const res = await fetch(target, { headers: { ...headers, accept: "text/event-stream" }, signal: this.abort.signal, cache: "no-store" });
        if (!res.ok || !res.body) {
          const body = (await res.json().catch(() => ({}))) as { code?: string };
          // A cursor the node no longer accepts: start again from the next block.
          if (body.code === "cursor_too_old" || body.code === "bad_cursor" || body.code === "cursor_in_future") this.cursor = null;
          if (res.status >= 500) this.on.down();
        } else {
          this.on.up();
          backoff = 500;
          const parser = new SseParser();
          const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            for (const e of parser.push(value)) this.take(e);
          }
          if (this.running) this.on.down(); // the node ended the stream (shutting down)
        }
      } catch {
        if (!this.running) return;
        this.on.down();
      }
      if (!this.running) return;
      await new Promise<void>((ok) => {
        const t = setTimeout(ok, backoff);
        this.wake = () => {
          clearTimeout(t);
          ok();
        };
      });
      this.wake = null;
      backoff = Math.min(backoff * 2, 10_000);
    }
  }

  private take(e: SseEvent): void {
    if (e.event === "gap") {
      try {
        const g = JSON.parse(e.data) as { resume_from?: string };
        if (typeof g.resume_from === "string") this.cursor = g.resume_from;
      } catch {
        // keep the last cursor
      }
      this.on.event(e);
      return;
    }
    if (e.id) this.cursor = e.id;
    this.on.event(e);
  }
}
