/**
 * The admin's part of the status page, for a technician logged in from a phone (admin-routes.tsx):
 * send now, retry payments the cloud refused, cut the internet link for a test (or restore it),
 * log out. Plain HTML forms posting to this gateway with the session's CSRF token: no script, no
 * token typed by hand. Anonymous visitors get a link to the login form.
 */
import type { FC } from 'hono/jsx';
import { plural } from './format.js';
import { Time } from './time.js';
import type { StatusView } from './view.js';

/** What the actions can do right now (without a cloud there is nothing to send or cut). */
export interface AdminActionsView {
  readonly cloud: boolean;
  readonly deadLetters: number;
  readonly backlogEvents: number;
  readonly cutUntilMs: number | null;
}

export type AdminState =
  | { readonly kind: 'anonymous' }
  | {
      readonly kind: 'admin';
      /** The session's CSRF token, carried by every form. */
      readonly csrf: string;
      readonly actions: AdminActionsView;
      /** The outcome of the action just taken, in words (never text from the request). */
      readonly flash: string | null;
      readonly expiresAtMs: number;
    };

/** Lengths offered for a test cut of the internet link, in minutes. */
export const OUTAGE_TEST_MINUTES = [1, 5, 15, 60] as const;

export const AdminLink: FC<{ admin: AdminState | null }> = ({ admin }) => {
  if (admin === null) return <></>;
  return admin.kind === 'admin' ? (
    <a class="admin-link" href="#admin">
      Admin actions
    </a>
  ) : (
    <a class="admin-link" href="/login">
      Admin login
    </a>
  );
};

const Csrf: FC<{ token: string }> = ({ token }) => <input type="hidden" name="csrf" value={token} />;

export const AdminPanel: FC<{ admin: AdminState | null; view: StatusView }> = ({ admin, view }) => {
  if (admin === null || admin.kind !== 'admin') return <></>;
  const a = admin.actions;
  const zone = view.timeZone ?? 'UTC';
  return (
    <section id="admin" class="wide admin" aria-labelledby="admin-h">
      <h2 id="admin-h">Admin actions</h2>
      {admin.flash === null ? '' : (
        <p id="flash" class="flash" role="status">
          {admin.flash}
        </p>
      )}
      {!a.cloud ? (
        <p>No cloud is configured on this gateway: there is nothing to send, retry or cut.</p>
      ) : (
        <div class="actions">
          <form method="post" action="/admin/drain">
            <Csrf token={admin.csrf} />
            <button type="submit" id="action-drain">Send now</button>
            <div class="hint">Tries to send the {plural(a.backlogEvents, 'transaction')} waiting at once, without waiting for the next retry.</div>
          </form>
          <form method="post" action="/admin/dead-letters/retry">
            <Csrf token={admin.csrf} />
            <button type="submit" id="action-retry" disabled={a.deadLetters === 0}>
              Retry refused payments ({a.deadLetters})
            </button>
            <div class="hint">Sends the payments the cloud refused again, once their cause is fixed.</div>
          </form>
          {a.cutUntilMs === null ? (
            <form method="post" action="/admin/wan-outage">
              <Csrf token={admin.csrf} />
              <label for="outage-minutes">Cut the internet link for a test, for </label>
              <select id="outage-minutes" name="minutes">
                {OUTAGE_TEST_MINUTES.map((m) => (
                  <option value={String(m)}>{m === 60 ? '1 hour' : `${m} min`}</option>
                ))}
              </select>{' '}
              <button type="submit" id="action-cut">Cut the link</button>
              <div class="hint">Payments keep being stored here and go out when the link is back; tills approve offline within their limits meanwhile.</div>
            </form>
          ) : (
            <form method="post" action="/admin/wan-outage">
              <Csrf token={admin.csrf} />
              <input type="hidden" name="minutes" value="0" />
              <button type="submit" id="action-restore">Restore the internet link now</button>
              <div class="hint">
                The link is cut for a test until <Time atMs={a.cutUntilMs} nowMs={view.nowMs} timeZone={zone} />.
              </div>
            </form>
          )}
        </div>
      )}
      <form method="post" action="/logout" class="logout">
        <Csrf token={admin.csrf} />
        <button type="submit" id="action-logout">Log out</button>{' '}
        <span class="muted">
          Logged in until <Time atMs={admin.expiresAtMs} nowMs={view.nowMs} timeZone={zone} shape="day" />
        </span>
      </form>
    </section>
  );
};
