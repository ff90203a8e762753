/**
 * `tillgate predict replay|train|eval|simulate` (DESIGN §3.5, §3.7). Replay prints alert lines on
 * stdout and a summary on stderr; train writes a model file; eval prints precision, recall, lead
 * time and PR-AUC by the §3.7 terms; simulate writes a fleet's records as §3.7 JSON lines.
 * Exit codes: 0 ok, 1 failure, 2 usage.
 */
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import { helpText, loadConfig, type OptionSpecs } from '../../lib/config.js';
import { evalSchema, evalSpecs, replaySchema, replaySpecs, simulateFleetSchema, simulateFleetSpecs, trainSchema, trainSpecs } from './cli-options.js';
import { evaluate } from './eval/evaluate.js';
import { formatReport } from './eval/report.js';
import { defaultModel } from './model/default.js';
import { loadModelFile, type RiskModel } from './model/model.js';
import { replay } from './replay.js';
import { FleetScorer } from './scorer.js';
import { DEFAULT_FLEET, fleetSubjects, mergedRecords } from './sim/fleet.js';
import { fileSource, lineProblems, simSource, type RecordSource } from './sources.js';
import { DEFAULT_TRAIN, train } from './train/train.js';

const USAGE = `usage: tillgate predict <replay|train|eval|simulate> [options]   (--help for the options)

  replay    score recorded §3.7 records with the gateway's live scorer; print alerts as JSON lines
  train     fit a risk model on fleet data (a §3.7 file or simulated seeds); write it as JSON
  eval      precision, recall, median lead time and PR-AUC by the §3.7 terms
  simulate  write a simulated fleet's health samples and WAN probes as §3.7 JSON lines
`;

const sources = (argv: string[]) => ({ argv, env: process.env });
const wantsHelp = (argv: string[]) => argv.includes('--help') || argv.includes('-h');

export async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const run: Record<string, [OptionSpecs, (a: string[]) => Promise<number>]> = {
    replay: [replaySpecs, replayMain],
    train: [trainSpecs, trainMain],
    eval: [evalSpecs, evalMain],
    simulate: [simulateFleetSpecs, simulateMain],
  };
  const entry = sub === undefined ? undefined : run[sub];
  if (entry === undefined) {
    process.stderr.write(USAGE);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(helpText(`predict ${sub}`, entry[0]));
    return 0;
  }
  return entry[1](rest);
}

async function modelFrom(path: string | undefined): Promise<RiskModel> {
  return path === undefined || path === 'default' ? defaultModel() : loadModelFile(path);
}

function fleetOf(o: { stores: number; terminalsPerStore: number; days: number; sampleIntervalS: number }) {
  return { stores: o.stores, terminalsPerStore: o.terminalsPerStore, days: o.days, startMs: DEFAULT_FLEET.startMs, sampleIntervalMs: o.sampleIntervalS * 1000 };
}

async function replayMain(argv: string[]): Promise<number> {
  const o = loadConfig(replaySchema, replaySpecs, sources(argv));
  const model = await modelFrom(o.model);
  const problems = lineProblems();
  const scorer = new FleetScorer(model, { maxSubjects: o.maxSubjects });
  const out: string[] = [];
  const flush = () => {
    if (out.length > 0) process.stdout.write(`${out.join('\n')}\n`);
    out.length = 0;
  };
  const summary = await replay(fileSource(o.input, problems), scorer, (line) => {
    out.push(line);
    if (out.length >= 256) flush();
  });
  flush();
  const perS = summary.elapsedMs > 0 ? Math.round((summary.records / summary.elapsedMs) * 1000) : summary.records;
  process.stderr.write(`${JSON.stringify({ replay: { ...summary, elapsedMs: Math.round(summary.elapsedMs), recordsPerS: perS, model: model.version, skippedLines: problems.byCode, firstSkipped: problems.first } })}\n`);
  return 0;
}

function sourceOf(o: { input?: string | undefined; seeds?: number[] | undefined; stores: number; terminalsPerStore: number; days: number; sampleIntervalS: number }): RecordSource {
  if (o.input !== undefined) {
    const problems = lineProblems();
    return fileSource(o.input, problems);
  }
  return simSource(o.seeds ?? [], fleetOf(o));
}

async function trainMain(argv: string[]): Promise<number> {
  const o = loadConfig(trainSchema, trainSpecs, sources(argv));
  const source = sourceOf(o);
  const { model, sweep } = await train(source, { ...DEFAULT_TRAIN, seed: o.seed, l2: o.l2, negativeRate: o.negativeRate, precisionTarget: o.precisionTarget, describe: o.seeds === undefined ? {} : { seeds: o.seeds, fleet: fleetOf(o) } });
  await writeFile(o.output, `${JSON.stringify(model, null, 2)}\n`);
  if (o.report !== undefined) await writeFile(o.report, `${JSON.stringify(sweep, (key, value: unknown) => (key === 'familyCatches' ? undefined : value), 2)}\n`);
  // No second pass over the training data to score it: figures on the data a model was fitted to
  // flatter it, and the pass doubles the run. `tillgate predict eval` on other seeds measures it.
  process.stderr.write(`model ${model.version} written to ${o.output}; measure it on other seeds with tillgate predict eval --model ${o.output}\n`);
  return 0;
}

async function evalMain(argv: string[]): Promise<number> {
  const o = loadConfig(evalSchema, evalSpecs, sources(argv));
  const source = sourceOf(o);
  let report;
  if (o.model !== undefined) {
    report = await evaluate(await modelFrom(o.model), source);
  } else {
    // A time split: train on the first part of the span, measure on the rest.
    let startMs = Number.POSITIVE_INFINITY;
    let endMs = Number.NEGATIVE_INFINITY;
    for await (const batch of source.batches()) {
      for (const r of batch) {
        if (r.atMs < startMs) startMs = r.atMs;
        if (r.atMs > endMs) endMs = r.atMs;
      }
    }
    const splitMs = Math.round(startMs + (endMs - startMs) * o.trainFraction);
    const { model } = await train(source, { ...DEFAULT_TRAIN, seed: o.seed, untilMs: splitMs });
    report = await evaluate(model, source, { fromMs: splitMs });
  }
  process.stdout.write(o.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
  return 0;
}

async function simulateMain(argv: string[]): Promise<number> {
  const o = loadConfig(simulateFleetSchema, simulateFleetSpecs, sources(argv));
  const out = o.output === '-' ? process.stdout : createWriteStream(o.output);
  let lines: string[] = [];
  let count = 0;
  const drain = async () => {
    if (lines.length === 0) return;
    const ok = out.write(`${lines.join('\n')}\n`);
    lines = [];
    if (!ok) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  for (const seed of o.seeds) {
    for (const r of mergedRecords(fleetSubjects({ ...fleetOf(o), seed }))) {
      const { atMs: _atMs, ...record } = r;
      lines.push(JSON.stringify(record));
      count++;
      if (lines.length >= 1024) await drain();
    }
  }
  await drain();
  if (out !== process.stdout) {
    out.end();
    await finished(out);
  }
  process.stderr.write(`${JSON.stringify({ simulate: { records: count, seeds: o.seeds } })}\n`);
  return 0;
}
