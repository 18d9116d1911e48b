// The dashboard's script and stylesheet, read once at start and served by the app (no CDN, no build step).
import { readFileSync } from "node:fs";
import type { Hono } from "hono";

const assets = {
  "dashboard.js": "text/javascript; charset=utf-8",
  "dashboard.css": "text/css; charset=utf-8",
} as const;

export function serveAssets(app: Hono<never>): void {
  for (const [name, type] of Object.entries(assets)) {
    const body = readFileSync(new URL(`./assets/${name}`, import.meta.url), "utf8");
    app.get(`/tasks/assets/${name}`, (c) => {
      c.header("Content-Type", type);
      // Short: a new version of the app is picked up within minutes without fingerprinted names.
      c.header("Cache-Control", "public, max-age=300");
      return c.body(body);
    });
  }
}
