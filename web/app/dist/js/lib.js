// The one door to the assent-js package (web/assent-js/src): the app encodes,
// signs and reads only through it, so its bytes are the ledger's bytes.
export { ApiError, Client, SECTORS, LEVELS, SigningKey, decodeBody, describeTx, encodeBody, fromHex, recoverTags, signRead, tagSet, toHex, checkTag, } from "../assent-js/index.js";
