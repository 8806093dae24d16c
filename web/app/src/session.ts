// One unlocked account: its key (non-extractable), a Client that signs its
// reads, what the ledger says about it (refreshed on every event of its
// stream), and the connection state the banner shows.

import { ApiError, Client, decodeBody, encodeBody, recoverTags, type Payload, type SignedTx, type SigningKey, type TxBody, type TxStatus } from "./lib.js";
import { targetedTags, type RequestRecord } from "./matching.js";
import { loadPrefs, savePrefs, type Prefs } from "./store.js";
import { EventStream } from "./stream.js";
import type { AccountInfo, Consent, Earnings, Enterprise, NodeStatus, Policy, UseRow } from "./types.js";

export type Connection = "connecting" | "online" | "unreachable";

export interface Data {
  status: NodeStatus | null;
  account: AccountInfo | null;
  registered: boolean;
  consents: Consent[];
  uses: UseRow[];
  earnings: Earnings | null;
  policies: Policy[];
  enterprises: Map<string, Enterprise>;
  requests: RequestRecord[];
  /** My tags, recovered from the commitments on the chain with my key. */
  tags: string[];
  /** Unix ms of the last successful refresh. */
  loaded: number;
}

/** A tx ready to sign: the body, its encoded bytes and the body decoded back from them. */
export interface Prepared {
  body: TxBody;
  bytes: Uint8Array;
  decoded: TxBody;
}

/** A network failure (as opposed to the node's refusal, an ApiError). */
export function isUnreachable(e: unknown): boolean {
  // The dev server answers 502 node_unreachable when its node is gone.
  if (e instanceof ApiError) return e.code === "node_unreachable";
  return !(e instanceof ApiError) && e instanceof Error && /unreachable|Failed to fetch|NetworkError/i.test(e.message);
}

export class Session {
  readonly client: Client;
  data: Data = {
    status: null,
    account: null,
    registered: false,
    consents: [],
    uses: [],
    earnings: null,
    policies: [],
    enterprises: new Map(),
    requests: [],
    tags: [],
    loaded: 0,
  };
  prefs: Prefs = { tags: [], sectors: [], ignored: [] };
  connection: Connection = "connecting";
  private stream: EventStream | null = null;
  private listeners = new Set<() => void>();
  private refreshing: Promise<void> | null = null;
  private again = false;

  constructor(
    readonly key: SigningKey,
    readonly chainId: string,
  ) {
    this.client = new Client({ node: location.origin, key, chainId });
  }

  get account(): string {
    return this.key.account;
  }

  onChange(f: () => void): () => void {
    this.listeners.add(f);
    return () => this.listeners.delete(f);
  }

  private changed(): void {
    for (const f of this.listeners) f();
  }

  private setConnection(c: Connection): void {
    if (this.connection !== c) {
      this.connection = c;
      this.changed();
    }
  }

  async start(): Promise<void> {
    this.prefs = await loadPrefs(this.account);
    this.stream = new EventStream(this.key, this.chainId, {
      up: () => {
        this.setConnection("online");
        void this.refresh();
      },
      down: () => this.setConnection("unreachable"),
      event: () => void this.refresh(),
    });
    this.stream.start();
    await this.refresh();
  }

  stop(): void {
    this.stream?.stop();
    this.stream = null;
    this.listeners.clear();
  }

  /** Try the node again now (the banner's button). */
  retry(): void {
    this.setConnection("connecting");
    this.stream?.retry();
    void this.refresh();
  }

  async savePrefs(p: Prefs): Promise<void> {
    this.prefs = p;
    await savePrefs(this.account, p);
    this.changed();
  }

  /** Reads everything the screens show; coalesces calls made while one runs. */
  refresh(): Promise<void> {
    if (this.refreshing) {
      this.again = true;
      return this.refreshing;
    }
    this.refreshing = this.load()
      .catch((e) => {
        if (isUnreachable(e)) this.setConnection("unreachable");
      })
      .finally(() => {
        this.refreshing = null;
        if (this.again) {
          this.again = false;
          void this.refresh();
        }
      });
    return this.refreshing;
  }

  private async load(): Promise<void> {
    const me = encodeURIComponent(this.account);
    const get = <T>(path: string) => this.client.get(path) as Promise<T>;
    const [status, account, consents, uses, policies, requests] = await Promise.all([
      this.client.get("/v1/status", { signed: false }) as Promise<NodeStatus>,
      get<AccountInfo>(`/v1/accounts/${me}`),
      get<{ consents: Consent[] }>(`/v1/consumers/${me}/consents`),
      get<{ uses: UseRow[] }>(`/v1/consumers/${me}/uses?limit=1000`),
      get<{ policies: Policy[] }>(`/v1/consumers/${me}/policies`),
      this.client.get("/v1/requests?all=true", { signed: false }) as Promise<{ requests: RequestRecord[] }>,
    ]);
    const registered = account.roles.includes("consumer");
    const earnings = registered ? await get<Earnings>(`/v1/consumers/${me}/earnings`) : null;
    const enterprises = await this.loadEnterprises();
    let tags: string[] = [];
    if (registered) {
      const onChain = await get<{ epoch: number; commitments: string[] }>(`/v1/consumers/${me}/tags`);
      const candidates = [...new Set([...this.prefs.tags, ...targetedTags(requests.requests)])];
      tags = (await recoverTags(this.key, this.chainId, this.account, onChain, candidates)).tags;
    }
    this.data = {
      status,
      account,
      registered,
      consents: consents.consents,
      uses: uses.uses,
      earnings,
      policies: policies.policies,
      enterprises,
      requests: requests.requests,
      tags,
      loaded: Date.now(),
    };
    if (this.connection !== "online") this.connection = "online";
    this.changed();
  }

  private async loadEnterprises(): Promise<Map<string, Enterprise>> {
    const out = new Map<string, Enterprise>();
    for (let offset = 0; offset < 10_000; offset += 100) {
      const page = (await this.client.get(`/v1/enterprises?limit=100&offset=${offset}`, { signed: false })) as {
        total: number;
        enterprises: Enterprise[];
      };
      for (const e of page.enterprises) out.set(e.account, e);
      if (offset + 100 >= page.total || page.enterprises.length === 0) break;
    }
    return out;
  }

  /** An enterprise's name, or its shortened id when it is not (or no longer) listed. */
  enterpriseName(account: string): string | undefined {
    return this.data.enterprises.get(account)?.name;
  }

  /**
   * Builds the tx for `payload` (or a function of the nonce that makes it)
   * and decodes it back from its bytes: what the confirmation shows.
   */
  async prepare(payload: Payload | ((nonce: number) => Promise<Payload>)): Promise<Prepared> {
    const nonce = await this.client.nextNonce(this.account);
    const p = typeof payload === "function" ? await payload(nonce) : payload;
    const body: TxBody = { sender: this.account, nonce, payload: p };
    const bytes = encodeBody(body);
    return { body, bytes, decoded: decodeBody(bytes) };
  }

  /**
   * Signs the prepared tx (refusing if the signed bytes are not the bytes
   * shown), submits it and waits for its block.
   */
  async send(p: Prepared): Promise<{ tx: SignedTx; status: TxStatus }> {
    const tx = await this.key.signTx(this.chainId, p.body);
    if (tx.bodyBytes.length !== p.bytes.length || tx.bodyBytes.some((b, i) => b !== p.bytes[i])) {
      throw new Error("the signed bytes differ from the bytes shown; nothing was sent");
    }
    await this.client.submitTx(tx);
    const status = await this.client.waitForTx(tx.id, { timeoutMs: 60_000, intervalMs: 250 });
    await this.refresh();
    return { tx, status };
  }
}
