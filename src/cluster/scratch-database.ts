// Databases made for one cluster, test or benchmark run on a PostgreSQL server, and dropped after.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

async function onServer(serverUrl: string, statement: string): Promise<void> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(statement);
  } finally {
    await c.end();
  }
}

/** Creates `cachectl_<tag>` (a random tag by default); answers its URL and how to drop it. */
export async function createScratchDatabase(serverUrl: string, tag = randomBytes(4).toString('hex')): Promise<{ name: string; url: string; drop(): Promise<void> }> {
  const name = `cachectl_${tag}`;
  await onServer(serverUrl, `create database ${name}`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  return { name, url: u.href, drop: () => onServer(serverUrl, `drop database if exists ${name} with (force)`) };
}
