// Checks of a new node's control fields that several engines share (each engine's validateNode picks them).
import { InvalidNodeError, type NodeControl } from './edge-driver.js';

/** A plain http://host:port URL (no credentials, query or fragment), without a trailing slash. */
export function plainHttpUrl(value: string, what: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidNodeError(`${what} '${value}' is not a URL`);
  }
  if (u.protocol !== 'http:' || u.username || u.password || u.search || u.hash) throw new InvalidNodeError(`${what} '${value}' must be a plain http://host:port URL`);
  return u.href.replace(/\/$/, '');
}

/** A secret of at most 4096 characters, without NUL. */
export function checkSecretSize(secret: string | undefined): void {
  if (secret !== undefined && (secret.length > 4096 || secret.includes('\0'))) throw new InvalidNodeError('secret: at most 4096 characters (one line, except a varnishd -S file)');
}

/** An HTTP control endpoint with a one-line bearer secret: the built-in edge's admin API, or an edge agent. */
export function httpControl(input: NodeControl): NodeControl {
  const controlUrl = plainHttpUrl(input.controlUrl, 'control_url');
  const secret = input.secret?.trim();
  checkSecretSize(secret);
  if (secret !== undefined && /[\r\n]/.test(secret)) throw new InvalidNodeError('secret: at most 4096 characters (one line, except a varnishd -S file)');
  return { controlUrl, ...(secret && { secret }) };
}
