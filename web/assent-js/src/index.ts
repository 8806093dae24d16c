// assent-js: build, sign and submit assent transactions and sign reads, byte
// for byte as the Rust ledger does (pinned by shared golden vectors in
// test/vectors.json). No runtime dependencies: WebCrypto for Ed25519 and
// SHA-256, small bincode and bech32m code here.

export { fromHex, toHex, toBase64 } from "./bytes.js";
export { Reader, Writer, toU64, fromU64, type U64 } from "./bincode.js";
export { ACCOUNT_HRP, accountFromText, accountToText, hashFromText, sha256, taggedHash } from "./ids.js";
export {
  ALL_KINDS,
  LEVELS,
  MAX_TAGS,
  SECTORS,
  SUPPORTED_KINDS,
  TX_ID_TAG,
  TX_SIGNATURE_TAG,
  decodeBody,
  decodeSignedTx,
  encodeBody,
  encodeSignedTx,
  readPayload,
  signingMessage,
  writePayload,
  writeUse,
  type Kind,
  type Level,
  type Payload,
  type PolicyTarget,
  type Sector,
  type TxBody,
  type Use,
  type UseBasis,
} from "./tx.js";
export { merkleRoot, taggedLeaf } from "./merkle.js";
export {
  USES_SIGNATURE_TAG,
  USES_TX_ID_TAG,
  USE_LEAF_TAG,
  covered,
  encodeUse,
  txId,
  txSigningMessage,
  useLeaf,
  usesCommitment,
  usesRoot,
  type Covered,
  type UsesCommitment,
} from "./uses.js";
export { SigningKey, verifySignature, type SignedTx } from "./keys.js";
export {
  TAG_COMMITMENT_TAG,
  TAG_PADDING_DOMAIN,
  TAG_SALT_DOMAIN,
  checkTag,
  commitmentOf,
  recoverTags,
  tagCommitment,
  tagSalt,
  tagSet,
  type RecoveredTags,
  type TagCommitments,
} from "./tags.js";
export {
  COMPONENTS,
  DEFAULT_LIFETIME_S,
  MAX_LIFETIME_S,
  READ_SIGNATURE_TAG,
  randomNonce,
  serializeParams,
  signRead,
  signatureBase,
  splitTarget,
  type ReadParams,
  type SignedHeaders,
} from "./reads.js";
export { ApiError, Client, type BatchResult, type ClientOptions, type TxStatus } from "./client.js";
export { describePayload, describeTx } from "./describe.js";
