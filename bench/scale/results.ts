// Section 6 (bench/scale-out.ts): its settings and what each part measures.
import { fileURLToPath } from 'node:url';
import { type HistoryQueryResult } from '../history.js';
import { type PgLoadResult } from '../pg-history.js';
import { type Summary } from '../stats.js';

export const DOMAIN = 'bench-scale.example.com';
export const ACCOUNT = 'admin';
export const EDGE_HOST = fileURLToPath(new URL('../edge-host.js', import.meta.url));
export const AGENT_HOST = fileURLToPath(new URL('../agent-host.js', import.meta.url));

export interface ScaleOutConfig {
  quick: boolean;
  postgresUrl: string;
  natsUrl: string;
  /** a: 1000-URL tasks per leg; legs run in this order of worker counts. */
  tasks: number;
  workerLegs: number[];
  /** b: blocks per transport, purges per block. */
  blocks: number;
  purgesPerBlock: number;
  /** c */
  historyTasks: number;
  historyCalls: number;
  deepCalls: number;
  /** d */
  fleetPurges: number;
  /** Which of a, b, c, d run (BENCH_SCALE_PARTS, default all). */
  parts: string[];
}

export function scaleOutConfig(quick: boolean): ScaleOutConfig {
  return {
    quick,
    postgresUrl: process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
    natsUrl: process.env.BENCH_NATS_URL || 'nats://127.0.0.1:4222',
    tasks: quick ? 10 : 30,
    // Full: 1, 3, 3, 1 so that drift of the machine falls on both worker counts alike.
    workerLegs: quick ? [1, 3] : [1, 3, 3, 1],
    blocks: 4,
    purgesPerBlock: quick ? 25 : 100,
    historyTasks: quick ? 100_000 : 1_000_000,
    historyCalls: quick ? 140 : 700,
    deepCalls: quick ? 10 : 50,
    // d: purges per agent layout (in two blocks each); 400 so that p99 is not one or two samples.
    fleetPurges: quick ? 50 : 400,
    parts: (process.env.BENCH_SCALE_PARTS || 'a,b,c,d').split(',').map((x) => x.trim()),
  };
}

export type Part<T> = T | { skipped: string };

export interface CpuShare {
  wallMs: number;
  /** Cores busy per process group over the window (1 = one core all the time). */
  cores: Record<string, number>;
}

export interface WorkerLeg {
  workers: number;
  tasks: number;
  urls: number;
  errors: number;
  intakeUrlsPerSec: number;
  e2eUrlsPerSec: number | null;
  create: Summary;
  cpu: CpuShare;
  /** CPU ms per 1000 URLs per group, over the whole window. */
  cpuMsPer1000: Record<string, number>;
  /** What the database's sessions were doing: share of samples per state or wait event. */
  pgWaits: Record<string, number>;
  /** Node results of a sampled URL (2 expected). */
  nodesPerUrl: number;
}

export interface WorkersResult {
  legs: WorkerLeg[];
  /** Median end-to-end URLs/s per worker count. */
  e2e: Record<number, number>;
  intake: Record<number, number>;
  ratio: number;
}

export interface TransportResult {
  http: Summary;
  nats: Summary;
  /** p50 of the create call alone, per transport (the rest is the wait until done). */
  createP50: { http: number; nats: number };
  ratio: { p50: number; p99: number };
  errors: { http: number; nats: number };
  cpu: { http: CpuShare; nats: CpuShare };
}

export interface PgHistoryResult {
  load: PgLoadResult;
  restartMs: number;
  history: HistoryQueryResult;
  /** Cores busy during the calls ('other': the machine's load not ours, which lands in the p99). */
  cpu: CpuShare;
}

/** Where 6d's ten agents run: all in one process, or each in its own. */
export type FleetLayout = 'inOne' | 'apart';

export interface FleetRun {
  purge: Summary;
  createP50: number;
  errors: number;
  cpu: CpuShare;
}

export interface FleetResult {
  nodes: number;
  registerMs: number;
  /** Of which the 100 POST calls (4 at a time). */
  registerCallsMs: number;
  inOne: FleetRun;
  apart: FleetRun;
  /** Sampled tasks whose per-node results were read: how many had all nodes done. */
  verified: { checked: number; allNodes: number };
  idleCpu: CpuShare;
}

export interface ScaleOutResult {
  workers: Part<WorkersResult>;
  transport: Part<TransportResult>;
  history: Part<PgHistoryResult>;
  fleet: Part<FleetResult>;
  elapsedMs: number;
}
