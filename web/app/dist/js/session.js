// One unlocked account: its key (non-extractable), a Client that signs its
// reads, what the ledger says about it (refreshed on every event of its
// stream), and the connection state the banner shows.
import { ApiError, Client, decodeBody, encodeBody, recoverTags } from "./lib.js";
import { targetedTags } from "./matching.js";
import { loadPrefs, savePrefs } from "./store.js";
import { EventStream } from "./stream.js";
/** A network failure (as opposed to the node's refusal, an ApiError). */
export function isUnreachable(e) {
    // The dev server answers 502 node_unreachable when its node is gone.
    if (e instanceof ApiError)
        return e.code === "node_unreachable";
    return !(e instanceof ApiError) && e instanceof Error && /unreachable|Failed to fetch|NetworkError/i.test(e.message);
}
export class Session {
    key;
    chainId;
    client;
    data = {
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
    prefs = { tags: [], sectors: [], ignored: [] };
    connection = "connecting";
    stream = null;
    listeners = new Set();
    refreshing = null;
    again = false;
    constructor(key, chainId) {
        this.key = key;
        this.chainId = chainId;
        this.client = new Client({ node: location.origin, key, chainId });
    }
    get account() {
        return this.key.account;
    }
    onChange(f) {
        this.listeners.add(f);
        return () => this.listeners.delete(f);
    }
    changed() {
        for (const f of this.listeners)
            f();
    }
    setConnection(c) {
        if (this.connection !== c) {
            this.connection = c;
            this.changed();
        }
    }
    async start() {
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
    stop() {
        this.stream?.stop();
        this.stream = null;
        this.listeners.clear();
    }
    /** Try the node again now (the banner's button). */
    retry() {
        this.setConnection("connecting");
        this.stream?.retry();
        void this.refresh();
    }
    async savePrefs(p) {
        this.prefs = p;
        await savePrefs(this.account, p);
        this.changed();
    }
    /** Reads everything the screens show; coalesces calls made while one runs. */
    refresh() {
        if (this.refreshing) {
            this.again = true;
            return this.refreshing;
        }
        this.refreshing = this.load()
            .catch((e) => {
            if (isUnreachable(e))
                this.setConnection("unreachable");
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
    async load() {
        const me = encodeURIComponent(this.account);
        const get = (path) => this.client.get(path);
        const [status, account, consents, uses, policies, requests] = await Promise.all([
            this.client.get("/v1/status", { signed: false }),
            get(`/v1/accounts/${me}`),
            get(`/v1/consumers/${me}/consents`),
            get(`/v1/consumers/${me}/uses?limit=1000`),
            get(`/v1/consumers/${me}/policies`),
            this.client.get("/v1/requests?all=true", { signed: false }),
        ]);
        const registered = account.roles.includes("consumer");
        const earnings = registered ? await get(`/v1/consumers/${me}/earnings`) : null;
        const enterprises = await this.loadEnterprises();
        let tags = [];
        if (registered) {
            const onChain = await get(`/v1/consumers/${me}/tags`);
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
        if (this.connection !== "online")
            this.connection = "online";
        this.changed();
    }
    async loadEnterprises() {
        const out = new Map();
        for (let offset = 0; offset < 10_000; offset += 100) {
            const page = (await this.client.get(`/v1/enterprises?limit=100&offset=${offset}`, { signed: false }));
            for (const e of page.enterprises)
                out.set(e.account, e);
            if (offset + 100 >= page.total || page.enterprises.length === 0)
                break;
        }
        return out;
    }
    /** An enterprise's name, or its shortened id when it is not (or no longer) listed. */
    enterpriseName(account) {
        return this.data.enterprises.get(account)?.name;
    }
    /**
     * Builds the tx for `payload` (or a function of the nonce that makes it)
     * and decodes it back from its bytes: what the confirmation shows.
     */
    async prepare(payload) {
        const nonce = await this.client.nextNonce(this.account);
        const p = typeof payload === "function" ? await payload(nonce) : payload;
        const body = { sender: this.account, nonce, payload: p };
        const bytes = encodeBody(body);
        return { body, bytes, decoded: decodeBody(bytes) };
    }
    /**
     * Signs the prepared tx (refusing if the signed bytes are not the bytes
     * shown), submits it and waits for its block.
     */
    async send(p) {
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
