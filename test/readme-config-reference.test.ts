import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { configReference } from '../bin/config-reference.js';

it('readme - the configuration reference lists exactly the options the commands accept (run `npm run docs:config` to update)', () => {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  expect(readme).toContain(configReference());
});
