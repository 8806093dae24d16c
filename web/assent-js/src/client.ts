// A small HTTP client of one node: submit signed txs, read a tx's status,
// read anything else with a signed request (docs/node-interfaces.md).

import { toHex } from "./bytes.js";
import type { SignedTx, SigningKey } from "./keys.js";
import { signRead } from "./reads.js";

/** A refusal from the node: the HTTP status and the API's `{code, message}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The node's `Retry-After`, in seconds, when it gave one (e.g. `overloaded`). */
    readonly retryAfterS?: number,
    /** The same wait in milliseconds, more precise (the body's `retry_after_ms`). */
    readonly retryAfterMs?: number,
  ) {
    super(`${code} (HTTP ${status}): ${message}`);
    this.name = "ApiError";
  }
}

/** One result of a batch submission: the tx id, or why it was refused. */
export type BatchResult = { tx_id: string } | { code: string; message: string };

export interface ClientOptions {
  /** The node's API, e.g. `http://127.0.0.1:26602`. */
  node: string;
  /** The key that signs reads (an account's current key). Without it, reads go unsigned (public routes only). */
  key?: SigningKey;
  /** The chain id; read once from `GET /v1/status` when absent. */
  chainId?: string;
  /** A `fetch` to use instead of the global one. */
  fetch?: typeof fetch;
  /**
   * How long submissions keep sending again, after the node's
   * `Retry-After`, while it answers `429 overloaded` (the network is at
   * capacity; ARCHITECTURE.md decision 39). Default 60,000 ms; 0 never
   * sends again.
   */
  patienceMs?: number;
}

/** The status of a tx as `GET /v1/txs/{id}` tells it. */
export interface TxStatus {
  tx_id: string;
  status: "pending" | "committed" | "rejected" | "unknown";
  height?: number;
  index?: number;
  code?: string;
  reason?: string;
  events?: unknown[];
  [more: string]: unknown;
}

export class Client {
  private readonly base: URL;
  private readonly key: SigningKey | undefined;
  private chain: string | undefined;
  private readonly fetchFn: typeof fetch;
  private readonly patienceMs: number;

  constructor(options: ClientOptions) {
    this.base = new URL(options.node);
    if (this.base.protocol !== "http:" && this.base.protocol !== "https:") {
      throw new Error(`node must be an http(s) URL, got ${options.node}`);
    }
    this.key = options.key;
    this.chain = options.chainId;
    this.fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.patienceMs = options.patienceMs ?? 60_000;
  }

  /** The chain id this client signs for. */
  async chainId(): Promise<string> {
    if (this.chain === undefined) {
      const s = (await this.request("GET", "/v1/status", { signed: false })) as { chain_id?: unknown };
      if (typeof s.chain_id !== "string") throw new Error("the node's /v1/status has no chain_id");
      this.chain = s.chain_id;
    }
    return this.chain;
  }

  /**
   * `GET path` (with its query), signed with the client's key when it has
   * one; `{ signed: false }` for public routes without a key.
   */
  async get(path: string, options: { signed?: boolean } = {}): Promise<unknown> {
    return this.request("GET", path, { signed: options.signed ?? this.key !== undefined });
  }

  /**
   * Submits one signed tx (`POST /v1/txs`); resolves to its id once the
   * node's mempool took it. While the node answers `overloaded`, it waits
   * the node's `Retry-After` and sends again (see `patienceMs`).
   */
  async submitTx(tx: SignedTx | Uint8Array): Promise<string> {
    const bytes = tx instanceof Uint8Array ? tx : tx.bytes;
    let waited = 0;
    for (;;) {
      try {
        const answer = (await this.request("POST", "/v1/txs", {
          signed: false,
          body: bytes,
          contentType: "application/octet-stream",
        })) as { tx_id: string };
        return answer.tx_id;
      } catch (e) {
        const wait = e instanceof ApiError && e.code === "overloaded" ? waitMs(e.retryAfterMs, e.retryAfterS) : null;
        if (wait === null || waited + wait > this.patienceMs) throw e;
        await sleep(wait);
        waited += wait;
      }
    }
  }

  /**
   * Submits many signed txs (`POST /v1/txs/batch`); one result per tx, in
   * order. Under backpressure the node takes what fits and refuses the
   * rest `overloaded`: those are sent again after its `retry_after_ms`
   * (see `patienceMs`), so a result is `overloaded` only if patience ran out.
   */
  async submitBatch(txs: (SignedTx | Uint8Array)[]): Promise<{ accepted: number; results: BatchResult[] }> {
    const hex = txs.map((t) => toHex(t instanceof Uint8Array ? t : t.bytes));
    const results: BatchResult[] = [];
    let waited = 0;
    for (;;) {
      const rest = hex.slice(results.length);
      const answer = (await this.request("POST", "/v1/txs/batch", {
        signed: false,
        body: JSON.stringify({ txs: rest }),
        contentType: "application/json",
      })) as { results: BatchResult[]; retry_after_s?: number; retry_after_ms?: number };
      const over = answer.results.findIndex((r) => "code" in r && r.code === "overloaded");
      const wait = waitMs(answer.retry_after_ms, answer.retry_after_s);
      if (over < 0 || waited + wait > this.patienceMs) {
        results.push(...answer.results);
        break;
      }
      results.push(...answer.results.slice(0, over));
      await sleep(wait);
      waited += wait;
    }
    return { accepted: results.filter((r) => "tx_id" in r).length, results };
  }

  /** `GET /v1/txs/{id}`, signed (only the tx's sender and operators may read it). */
  async txStatus(id: string): Promise<TxStatus> {
    if (!/^[0-9a-f]{64}$/.test(id)) throw new Error(`a tx id is 64 lower-case hex characters, got ${JSON.stringify(id)}`);
    return (await this.get(`/v1/txs/${id}`)) as TxStatus;
  }

  /**
   * Polls `GET /v1/txs/{id}` until the tx is in a block (`committed` or
   * `rejected`), or throws after `timeoutMs` (default 30 s).
   */
  async waitForTx(id: string, options: { timeoutMs?: number; intervalMs?: number } = {}): Promise<TxStatus> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const s = await this.txStatus(id);
      if (s.status === "committed" || s.status === "rejected") return s;
      if (Date.now() > deadline) {
        throw new Error(`tx ${id} is still ${s.status} after ${options.timeoutMs ?? 30_000} ms`);
      }
      await new Promise((ok) => setTimeout(ok, options.intervalMs ?? 200));
    }
  }

  /** The nonce the account's next tx takes (`next_nonce` of `GET /v1/accounts/{id}`, signed). */
  async nextNonce(account: string): Promise<number> {
    const a = (await this.get(`/v1/accounts/${encodeURIComponent(account)}`)) as { next_nonce?: unknown };
    if (typeof a.next_nonce !== "number") throw new Error(`the node gave no next_nonce for ${account}`);
    return a.next_nonce;
  }

  private async request(
    method: string,
    target: string,
    options: { signed: boolean; body?: Uint8Array | string; contentType?: string },
  ): Promise<unknown> {
    if (!target.startsWith("/")) throw new Error(`a path starts with /, got ${JSON.stringify(target)}`);
    const url = new URL(target, this.base);
    if (url.origin !== this.base.origin) throw new Error(`${target} leaves the node ${this.base.origin}`);
    const headers: Record<string, string> = { accept: "application/json" };
    if (options.contentType) headers["content-type"] = options.contentType;
    if (options.signed) {
      if (!this.key) throw new Error(`${method} ${target} needs a signed read: give the client a key`);
      // Sign the path and query exactly as they go on the wire (after URL normalisation).
      Object.assign(headers, await signRead(this.key, await this.chainId(), method, url.pathname + url.search));
    }
    let res: Response;
    try {
      res = await this.fetchFn(url, { method, headers, body: options.body as BodyInit | undefined });
    } catch (e) {
      throw new Error(`node ${this.base.origin} unreachable: ${(e as Error).message}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text.length ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { code?: unknown; message?: unknown; retry_after_ms?: unknown };
      const after = Number.parseInt(res.headers.get("retry-after") ?? "", 10);
      throw new ApiError(
        res.status,
        typeof e.code === "string" ? e.code : `http_${res.status}`,
        typeof e.message === "string" ? e.message : text.slice(0, 200) || res.statusText,
        Number.isFinite(after) && after > 0 ? Math.min(after, 60) : undefined,
        typeof e.retry_after_ms === "number" ? e.retry_after_ms : undefined,
      );
    }
    if (json === null) throw new Error(`${method} ${target}: the node's answer is not JSON`);
    return json;
  }
}

/**
 * How long to wait before sending again: the node's milliseconds when it
 * gave them (0.1–10 s: the pool holds half a second of work, so whole
 * seconds would leave it idle), else its whole seconds, else a second;
 * kept within 50 ms – 60 s.
 */
function waitMs(ms: number | undefined, s: number | undefined): number {
  const wanted = typeof ms === "number" && Number.isFinite(ms) ? ms : (typeof s === "number" && Number.isFinite(s) ? s : 1) * 1000;
  return Math.min(Math.max(wanted, 50), 60_000);
}

function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
