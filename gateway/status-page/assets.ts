/**
 * The page's only CSS and script, inlined (the store may be offline: no external assets or fonts)
 * and allowed by the Content-Security-Policy through their SHA-256 hashes instead of
 * `'unsafe-inline'` (CSP Level 3 §8.2 hash-source), so an injected script would not run.
 */
import { createHash } from 'node:crypto';

/** How often the no-SSE fallback refetches the page. */
export const FALLBACK_REFRESH_S = 10;

export const PAGE_CSS = `
:root{--fg:#111;--bg:#fff;--muted:#444;--line:#bbb;--ok:#0a5c2b;--warn:#ffcf33;--alarm:#a1001c;--card:#f3f3f3}
*{box-sizing:border-box}
body{margin:0;font:16px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:1180px;margin:0 auto;padding:12px}
section.admin{max-width:1180px;margin:0 auto 12px}
.headline{padding:14px 16px;border-radius:6px;border:3px solid #000}
.headline h1{font-size:1.35rem;line-height:1.3;margin:6px 0 0;overflow-wrap:anywhere}
.headline ul{margin:8px 0 0;padding-left:20px}
.level-ok{background:var(--ok);color:#fff}
.level-warn{background:var(--warn);color:#000}
.level-alarm{background:var(--alarm);color:#fff}
.badge{display:inline-block;font-weight:700;font-size:.85rem;letter-spacing:.06em;padding:2px 8px;border:2px solid currentColor;border-radius:4px}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(260px,1fr));gap:12px;margin-top:12px}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:10px 14px}
h2{font-size:1.05rem;margin:2px 0 8px}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:0}
dt{color:var(--muted)}
dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.state{display:inline-block;font-weight:700;padding:0 6px;border-radius:3px}
.s-ok{background:var(--ok);color:#fff}
.s-warn{background:var(--warn);color:#000}
.s-alarm{background:var(--alarm);color:#fff}
.s-none{background:#ddd;color:#000}
.wide{margin-top:12px}
table{width:100%;border-collapse:collapse;font-size:.95rem}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top;overflow-wrap:anywhere}
th{background:#e4e4e4;overflow-wrap:normal}
table.terminals td:first-child{white-space:nowrap}
td.num{font-variant-numeric:tabular-nums}
.alarms{list-style:none;margin:0;padding:0}
.alarms li{padding:6px 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
.alarms ul.reasons{margin:4px 0 0;padding-left:20px}
.alarms ul.reasons li{border:0;padding:2px 0;font-weight:600}
.muted{color:var(--muted);font-weight:400}
.hint{font-weight:400;font-size:.9rem;margin-top:4px}
footer{max-width:1180px;margin:0 auto;padding:8px 12px 24px;color:var(--muted);font-size:.9rem}
.conn{font-weight:700}
.topbar{max-width:1180px;margin:0 auto;padding:10px 12px 0;display:flex;flex-wrap:wrap;gap:4px 12px;align-items:baseline;justify-content:space-between}
.topbar .who strong{font-size:1.1rem}
a{color:#0b3d91}
.admin-link{font-weight:700;padding:6px 0}
.headline .action{margin:8px 0 0;font-size:1rem;line-height:1.4}
.action p{margin:4px 0 0}
.problems{list-style:none;margin:0;padding:0}
.problems li{padding:8px 0 8px 10px;border-bottom:1px solid var(--line);border-left:6px solid var(--warn)}
.problems li.p-alarm{border-left-color:var(--alarm)}
.problem-sentence{font-weight:700;overflow-wrap:anywhere}
.problems .action{font-size:.95rem;margin-top:3px}
td .state{margin:0 4px 4px 0}
tr.has-problem td:first-child{box-shadow:inset 4px 0 0 var(--alarm)}
h3{font-size:.98rem;margin:12px 0 4px}
.history{list-style:none;margin:0;padding:0}
.history li{padding:5px 0;border-bottom:1px solid var(--line);overflow-wrap:anywhere}
svg.chart{display:block;width:100%;max-width:560px;height:auto;background:#fff;border:1px solid var(--line);border-radius:4px}
.admin .actions{display:grid;grid-template-columns:repeat(auto-fit,minmax(240px,1fr));gap:12px}
.admin form{margin:0}
.admin button{font:inherit;font-weight:700;padding:10px 14px;min-height:44px;border:2px solid #000;border-radius:6px;background:#fff;cursor:pointer}
.admin button[disabled]{color:#777;border-color:#aaa;cursor:default}
.admin select{font:inherit;padding:8px;min-height:44px}
.admin .logout{margin-top:12px}
.flash{background:#e3f1e7;border:2px solid var(--ok);border-radius:6px;padding:8px 10px;font-weight:700}
.login{max-width:420px;margin:24px auto;padding:0 12px}
.login label{display:block;font-weight:700;margin:12px 0 4px}
.login input{font:inherit;width:100%;padding:10px;min-height:44px;border:2px solid #000;border-radius:6px}
.login button{font:inherit;font-weight:700;margin-top:12px;padding:10px 16px;min-height:44px;border:2px solid #000;border-radius:6px;background:#fff}
.error{background:#fbe3e7;border:2px solid var(--alarm);border-radius:6px;padding:8px 10px;font-weight:700}
@media (max-width:640px){
 .headline h1{font-size:1.2rem}
 table.terminals thead{display:none}
 table.terminals tr{display:block;border:1px solid var(--line);border-radius:6px;margin-bottom:8px;background:#fff}
 table.terminals td{display:grid;grid-template-columns:8.5em 1fr;border-bottom:1px solid #e4e4e4}
 table.terminals td::before{content:attr(data-label);color:var(--muted);font-weight:400}
 table.terminals td>*{justify-self:start}
}
`;

/**
 * Live updates: the server pushes `status` events over SSE carrying the rendered `#live` fragment;
 * when EventSource is missing or the server refuses the stream (503: too many viewers), the page
 * refetches itself every FALLBACK_REFRESH_S seconds instead. With scripts off, the `<noscript>`
 * meta refresh does the same.
 */
export const PAGE_SCRIPT = `
(function(){
var live=document.getElementById('live'),conn=document.getElementById('conn'),upd=document.getElementById('updated');
var FALLBACK_MS=${FALLBACK_REFRESH_S * 1000},failures=0,polling=false;
function show(text,cls){conn.textContent=text;conn.className='conn '+cls;}
function poll(){
 fetch(location.pathname,{cache:'no-store',credentials:'same-origin'}).then(function(r){return r.text();}).then(function(t){
  var d=new DOMParser().parseFromString(t,'text/html'),n=d.getElementById('live'),u=d.getElementById('updated');
  if(n){live.innerHTML=n.innerHTML;document.title=d.title;}
  if(u){upd.textContent=u.textContent;}
  show('Updating every ${FALLBACK_REFRESH_S} s','poll');
 }).catch(function(){show('Gateway not reachable — retrying','down');}).then(function(){setTimeout(poll,FALLBACK_MS);});
}
function fallback(){if(polling)return;polling=true;show('Updating every ${FALLBACK_REFRESH_S} s','poll');setTimeout(poll,FALLBACK_MS);}
if(!window.EventSource||!window.fetch){fallback();return;}
var es=new EventSource('/api/status/stream');
es.addEventListener('status',function(e){
 failures=0;var d=JSON.parse(e.data);live.innerHTML=d.html;document.title=d.title;upd.textContent=d.updated;show('Live','live');
});
es.onerror=function(){
 failures++;show('Reconnecting…','down');
 if(es.readyState===2||failures>=3){es.close();fallback();}
};
})();
`;

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** CSP hash-sources of the inline style and script above. */
export const PAGE_STYLE_HASH = cspHash(PAGE_CSS);
export const PAGE_SCRIPT_HASH = cspHash(PAGE_SCRIPT);
