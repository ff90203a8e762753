/**
 * The dashboard's only CSS, inlined (no external assets) and allowed by the Content-Security-Policy
 * through its SHA-256 hash (CSP Level 3 §8.2 hash-source) instead of 'unsafe-inline'. The page has
 * no script at all: it refreshes itself with a meta refresh.
 */
import { createHash } from 'node:crypto';

/** Seconds between the page's own refreshes. */
export const DASHBOARD_REFRESH_S = 15;

export const DASHBOARD_CSS = `
:root{--fg:#111;--bg:#fff;--muted:#444;--line:#bbb;--ok:#0a5c2b;--warn:#ffcf33;--alarm:#a1001c;--card:#f3f3f3;--with:#1f3f8f;--without:#9aa9c9}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:12px}
h1{font-size:1.4rem;margin:4px 0 8px}
h2{font-size:1.1rem;margin:2px 0 8px}
h3{font-size:1rem;margin:12px 0 6px}
.headline{padding:12px 16px;border-radius:6px;border:3px solid #000}
.level-ok{background:var(--ok);color:#fff}
.level-alarm{background:var(--alarm);color:#fff}
.level-warn{background:var(--warn);color:#000}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px;margin-top:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px;margin-top:12px;min-width:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}
dt{color:var(--muted)}
dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.chart{width:100%;min-width:560px;height:auto;display:block;background:#fff;border:1px solid var(--line);border-radius:4px}
.chart .grid{stroke:#ddd;stroke-width:1}
.chart .tick{font-size:11px;fill:var(--muted)}
.bar-with{fill:var(--with)}
.bar-without{fill:var(--without)}
.rate{width:100%;max-width:300px;height:24px;display:block}
.rate-bg{fill:#e4e4e4}
.rate-ok{fill:var(--ok)}
.rate-alarm{fill:var(--alarm)}
.scroll{overflow-x:auto}
table{width:100%;border-collapse:collapse;font-size:.92rem}
th,td{text-align:left;padding:5px 7px;border-bottom:1px solid var(--line);vertical-align:top}
th{background:#e4e4e4}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.id{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.82rem;overflow-wrap:anywhere}
.state{display:inline-block;font-weight:700;padding:0 6px;border-radius:3px}
.s-ok{background:var(--ok);color:#fff}
.s-warn{background:var(--warn);color:#000}
.s-alarm{background:var(--alarm);color:#fff}
.s-none{background:#ddd;color:#000}
.muted{color:var(--muted);font-weight:400}
footer{max-width:1180px;margin:0 auto;padding:8px 12px 24px;color:var(--muted);font-size:.9rem}
@media (max-width:640px){
 h1{font-size:1.2rem}
 table.rows thead{display:none}
 table.rows tr{display:block;border:1px solid var(--line);border-radius:6px;margin-bottom:8px;background:#fff}
 table.rows td{display:grid;grid-template-columns:7.5em 1fr;border-bottom:1px solid #e4e4e4}
 table.rows td::before{content:attr(data-label);color:var(--muted);font-weight:400}
}
`;

export const DASHBOARD_STYLE_HASH = `'sha256-${createHash('sha256').update(DASHBOARD_CSS, 'utf8').digest('base64')}'`;

/** Nothing from anywhere but the page's own hashed style; no script at all. */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  `style-src ${DASHBOARD_STYLE_HASH}`,
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
