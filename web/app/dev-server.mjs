// For developing the app only: serves dist/ at /app/ with the headers the
// node sends (the same Content-Security-Policy) and proxies every other path
// (the API, /v1/events) to a running node, so the page is same-origin with
// its API as when assentd serves it.
//
//   ASSENT_NODE=http://127.0.0.1:26602 PORT=8080 node dev-server.mjs
//   open http://127.0.0.1:8080/app/
import { createServer, request } from "node:http";
import { readFile } from "node:fs/promises";
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
const node = new URL(process.env.ASSENT_NODE ?? "http://127.0.0.1:26602");
const port = Number(process.env.PORT ?? 8080);

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const SECURITY = {
  "content-security-policy": CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};
const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".webmanifest": "application/manifest+json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".txt": "text/plain; charset=utf-8",
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/" || url.pathname === "/app") {
    res.writeHead(308, { location: "/app/" }).end();
    return;
  }
  if (url.pathname.startsWith("/app/")) {
    const rel = normalize(url.pathname.slice(5) || "index.html");
    const type = TYPES[extname(rel)];
    if (rel.startsWith("..") || !type) {
      res.writeHead(404, SECURITY).end();
      return;
    }
    try {
      const body = await readFile(join(dist, rel));
      res.writeHead(200, { ...SECURITY, "content-type": type }).end(body);
    } catch {
      res.writeHead(404, SECURITY).end();
    }
    return;
  }
  // Everything else goes to the node, streamed both ways (event streams too).
  const up = request(
    { host: node.hostname, port: node.port, method: req.method, path: req.url, headers: { ...req.headers, host: node.host } },
    (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    },
  );
  up.on("error", (e) => {
    if (!res.headersSent) res.writeHead(502, { "content-type": "application/json" });
    res.end(JSON.stringify({ code: "node_unreachable", message: `${node.origin}: ${e.message}` }));
  });
  req.pipe(up);
});
server.listen(port, "127.0.0.1", () => console.log(`app at http://127.0.0.1:${port}/app/ (API proxied to ${node.origin})`));
