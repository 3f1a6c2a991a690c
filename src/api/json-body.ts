// What a request body may be: JSON, as bytes on the wire. A body in another media type or compressed
// would otherwise be parsed as plain JSON text (or fail there with a misleading message); it is refused
// from its headers, before any byte is read.
import type { IncomingHttpHeaders } from 'node:http';
import { unsupportedMedia } from '../errors.js';

/** The body the headers announce: none, or one of a known or (chunked) unknown length. */
export function announcedBody(headers: IncomingHttpHeaders): { present: boolean; length?: number } {
  const te = headers['transfer-encoding'];
  if (te !== undefined) return { present: true };
  const cl = headers['content-length'];
  const length = cl === undefined ? 0 : Number(cl);
  return { present: length > 0, length };
}

/**
 * Refuses a body that is not JSON: any Content-Encoding but identity, a media type other than
 * application/json (parameters allowed: the SDKs send `application/json;charset=UTF-8`), a charset
 * other than UTF-8. Only called for requests that carry a body.
 */
export function checkJsonBody(headers: IncomingHttpHeaders): void {
  const encoding = headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    throw unsupportedMedia(`Unsupported Content-Encoding '${encoding.slice(0, 40)}': send the JSON body uncompressed`);
  }
  const type = headers['content-type'];
  if (type === undefined) throw unsupportedMedia('A request body needs Content-Type: application/json');
  const [media, ...params] = type.split(';');
  if (media.trim().toLowerCase() !== 'application/json') {
    throw unsupportedMedia(`Unsupported Content-Type '${media.trim().slice(0, 60)}': the body must be application/json`);
  }
  for (const param of params) {
    const [name, value = ''] = param.split('=');
    const charset = value.trim().replace(/^"(.*)"$/, '$1').toLowerCase();
    if (name.trim().toLowerCase() === 'charset' && charset !== 'utf-8' && charset !== 'utf8') {
      throw unsupportedMedia(`Unsupported charset '${charset.slice(0, 40)}': the body must be UTF-8 JSON`);
    }
  }
}
