import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { problemsReference } from '../bin/problems-reference.js';

it('docs - the status page document lists exactly the problems the page names, with what to do (run `npm run docs:problems` to update)', () => {
  const doc = readFileSync(new URL('../docs/status-page.md', import.meta.url), 'utf8');
  expect(doc).toContain(problemsReference());
  expect(doc).toContain('| `WAN_OFFLINE` | problem | wan | Internet down | Check the router');
});
