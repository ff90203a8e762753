// `npm install` runs this (the `prepare` script): it builds dist/ so that a fresh clone has a
// runnable `tillgate` (`npx tillgate --help`) after `npm install` alone. It builds nothing where
// there is nothing to build with: a production install without the TypeScript compiler, or a
// container's `npm ci` that runs before the sources are copied in.
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const tsc = 'node_modules/typescript/bin/tsc';
if (!existsSync(tsc) || !existsSync('tsconfig.build.json') || !existsSync('bin/tillgate.ts')) {
  console.log('tillgate prepare: no TypeScript compiler or no sources here, nothing to build');
  process.exit(0);
}
const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
