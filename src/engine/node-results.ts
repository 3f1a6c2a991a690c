// What each node did with one URL: kept beside the URL's outcome so that `cachectl task <id> --nodes`
// can say where a purge landed, how long it took and why it failed. The Huawei answers never show it.

export interface NodeResult {
  node: string;
  ok: boolean;
  /** From the first send to this node until its final answer, retries included. */
  ms: number;
  attempts: number;
  /** What the node said on success (e.g. "purged 1"). */
  detail?: string;
  classify?: 'ORIGIN_ERROR' | 'INNER_ERROR';
  error?: string;
}

export function encodeNodeResults(results: NodeResult[]): string {
  return JSON.stringify(results);
}

export function decodeNodeResults(text: string | undefined): NodeResult[] {
  if (!text) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as NodeResult[]) : [];
  } catch {
    return [];
  }
}
