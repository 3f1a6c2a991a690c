// The scale-out store: PostgreSQL, shared by any number of cachectl processes.
import pg from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import type { Database } from '../database.js';
import { preparingPool } from './prepared-statements.js';

export interface PostgresOptions {
  /** postgres://user@host:port/database */
  url: string;
  /** Connections per process. */
  poolSize?: number;
}

// Every bigint we store (ids, epoch ms, counts) is far below 2^53: read them as numbers, as SQLite
// gives them, so the layers above see one type whatever the database.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/**
 * `relaxed` opens the pool for recoverable writes: its sessions commit without waiting for the WAL
 * flush (synchronous_commit off), which saves a statement per transaction over SET LOCAL.
 */
export function openPostgres(options: PostgresOptions & { relaxed?: boolean }): { db: Kysely<Database>; pool: pg.Pool } {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    ...(options.relaxed && { options: '-c synchronous_commit=off' }),
    types,
    // A restarted server leaves dead connections in the pool; they are dropped on error and new
    // ones are made on demand, so the process reconnects by itself.
    idleTimeoutMillis: 30_000,
    // Waiting for a free connection under load is better than failing the request.
    connectionTimeoutMillis: 30_000,
  });
  // A connection broken by a server restart emits 'error': on the pool when it is idle, on the
  // client when it is checked out. Unheard, either would crash the process; the query in flight
  // fails on its own, and the pool replaces the connection.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: preparingPool(pool) }) }), pool };
}
