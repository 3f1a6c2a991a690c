// Purges URLs through cachectl with the official Huawei Cloud Node.js SDK core: only the endpoint
// differs from Huawei Cloud CDN. The keys are an access key pair of cachectl (data/credentials.json
// after the first start, or `cachectl keys add`); the account is derived from the access key.
//
//   CACHECTL_API=http://127.0.0.1:8080 HUAWEICLOUD_SDK_AK=… HUAWEICLOUD_SDK_SK=… \
//     node examples/sdk-purge.mjs http://www.example.test/a.js [more URLs…]
//
// Prints the task id; `cachectl task <id> --watch` follows it.
import { ClientBuilder } from '@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js';
import { GlobalCredentials } from '@huaweicloud/huaweicloud-sdk-core/auth/GlobalCredentials.js';

const endpoint = process.env.CACHECTL_API ?? 'http://127.0.0.1:8080';
const AK = process.env.HUAWEICLOUD_SDK_AK;
const SK = process.env.HUAWEICLOUD_SDK_SK;
const urls = process.argv.slice(2);
if (!AK || !SK || urls.length === 0) {
  console.error('usage: HUAWEICLOUD_SDK_AK=… HUAWEICLOUD_SDK_SK=… node examples/sdk-purge.mjs URL…');
  process.exit(2);
}

const hc = new ClientBuilder((c) => c)
  .withEndpoint(endpoint)
  .withCredential(new GlobalCredentials().withAk(AK).withSk(SK))
  .build();
try {
  const answer = await hc.sendRequest({
    method: 'POST',
    url: '/v1.0/cdn/content/refresh-tasks',
    contentType: 'application/json',
    queryParams: {},
    pathParams: {},
    headers: { 'Content-Type': 'application/json' },
    data: { refresh_task: { type: 'file', urls } },
  });
  console.log(`refresh task ${answer.refresh_task}`);
} catch (err) {
  // The SDK's exceptions carry the API's error code and message (CDN.0xxx, APIGW.0xxx).
  console.error(`refused: ${err.httpStatusCode ?? ''} ${err.errorCode ?? ''} ${err.errorMsg ?? err.message}`.trim());
  process.exit(1);
}
