// The benchmark's accelerated domain: created through the API and waited for until the edges serve it.
import type { SignedClient } from './client.js';
import { msSince, now } from './stats.js';

export async function addOnlineDomain(client: SignedClient, domain: string, originPort: number, timeoutMs = 15_000): Promise<void> {
  await client.ok('POST', '/v1.0/cdn/domains', {
    body: { domain: { domain_name: domain, business_type: 'web', sources: [{ ip_or_domain: '127.0.0.1', origin_type: 'ipaddr', active_standby: 1, http_port: originPort }] } },
  });
  const start = now();
  while (msSince(start) < timeoutMs) {
    const list = await client.ok('GET', '/v1.0/cdn/domains', { query: [['domain_name', domain], ['exact_match', 'true']] });
    if (list.domains?.[0]?.domain_status === 'online') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`domain ${domain} did not come online in ${timeoutMs / 1000} s`);
}
