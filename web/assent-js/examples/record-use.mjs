// Records a use against a running network, from Node.js, with this package
// alone: the consumer (alice) declares her interest tags as salted
// commitments (registering if she is not yet a consumer) and reads them
// back with her key, then grants the enterprise (acme) a consent; acme
// records a batch of one use under it; alice reads what she earned. Prints
// one JSON line.
//
//   ASSENT_NODE=http://127.0.0.1:26602 \
//   ALICE_SEED=$(assent keys export-seed alice) ACME_SEED=$(assent keys export-seed acme) \
//   node examples/record-use.mjs
//
// (Run `npm ci && npm run build` in web/assent-js first.)
import { Client, SigningKey, describeTx, recoverTags, tagSet } from "../dist/index.js";

const node = process.env.ASSENT_NODE ?? "http://127.0.0.1:26602";
const need = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`set ${name} to a 64-hex seed (assent keys export-seed NAME)`);
  return v;
};
const alice = await SigningKey.fromSeed(need("ALICE_SEED"), { extractable: false });
const acme = await SigningKey.fromSeed(need("ACME_SEED"), { extractable: false });

// One client per signer: each signs its own reads.
const asAlice = new Client({ node, key: alice });
const asAcme = new Client({ node, key: acme });
const chainId = await asAlice.chainId();

// `payload` is the payload, or a function of the tx's nonce that makes it.
async function send(client, key, payload) {
  const nonce = await client.nextNonce(key.account);
  if (typeof payload === "function") payload = await payload(nonce);
  const tx = await key.signTx(chainId, { sender: key.account, nonce, payload });
  console.error(`signing: ${describeTx(tx.body)}`); // what the bytes say
  await client.submitTx(tx);
  const status = await client.waitForTx(tx.id);
  if (status.status !== "committed") throw new Error(`${payload.kind} ${tx.id} was ${status.status}: ${status.reason}`);
  return { tx, status };
}

// The consumer's side (the web app does this in the browser). Her tags go
// to the chain only as commitments salted with her key, padded to 16 and
// sorted, with the tx's nonce as epoch: what `assent consumer register
// --tag runner` sends.
const myTags = ["runner"];
const account = await asAlice.get(`/v1/accounts/${alice.account}`);
const kind = account.roles.includes("consumer") ? "SetTags" : "RegisterConsumer";
await send(asAlice, alice, async (nonce) => ({
  kind,
  tags: await tagSet(alice, chainId, alice.account, nonce, myTags),
}));
// Which tags are hers, read back with her key (a signed read of her own
// record; the candidates would be every request's target tags and what the
// app declared).
const onChain = await asAlice.get(`/v1/consumers/${alice.account}/tags`);
const recovered = await recoverTags(alice, chainId, alice.account, onChain, [...myTags, "vegan"]);
const grant = await send(asAlice, alice, {
  kind: "GrantConsent",
  enterprise: acme.account,
  categories: ["Purchase"],
  purposes: ["DirectMarketing"],
  level: "pseudonymous",
  price_per_use: 3,
});
const consent = grant.tx.id; // a consent's id is its GrantConsent's tx id

// The enterprise's backend: a batch of uses, each under a consent or policy.
const evidence = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("order 1234")));
const record = await send(asAcme, acme, {
  kind: "RecordUse",
  uses: [
    {
      consumer: alice.account,
      basis: { consent },
      category: "Purchase",
      purpose: "DirectMarketing",
      level: "pseudonymous",
      units: 2,
      evidence_hash: Buffer.from(evidence).toString("hex"),
    },
  ],
});
const earnings = await asAlice.get(`/v1/consumers/${alice.account}/earnings`);
console.log(
  JSON.stringify({
    tags: recovered,
    tag_commitments: onChain.commitments.length,
    consent,
    record_tx: record.tx.id,
    events: record.status.events,
    earned: earnings.earned,
  }),
);
