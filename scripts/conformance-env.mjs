// The settings the shared conformance suite reads (its README's CONF_* table), from one place for
// scripts/conformance.mjs, the cluster run and the tests that run the suite.

/**
 * @param {{ api: string, accessKey: string, secretKey: string, other: { access_key: string, secret_key: string },
 *   account: string, user: string, password: string, edges: string[] }} s
 * @returns {Record<string, string>}
 */
export function suiteEnv(s) {
  return {
    CONF_API: s.api,
    CONF_AK: s.accessKey,
    CONF_SK: s.secretKey,
    CONF_AK2: s.other.access_key,
    CONF_SK2: s.other.secret_key,
    CONF_ACCOUNT: s.account,
    CONF_USER: s.user,
    CONF_PASSWORD: s.password,
    CONF_EDGES: s.edges.join(','),
  };
}
