// A new refresh task as the repositories take it: `urls` file URLs on a.test, all waiting, with an
// optional lease owner. `path(i)` names the i-th URL's path.
import type { NewTask } from '../../src/store/repositories/task-rows.js';

export function newTask(account: string, urls: number, createTime: number, owner: string | null = null, path = (i: number) => `/${i}`): NewTask {
  return {
    task: { account_id: account, task_type: 'refresh', file_type: 'file', mode: 'all', status: 'task_inprocess', total: urls, processing: urls, succeed: 0, failed: 0, create_time: createTime },
    urls: Array.from({ length: urls }, (_, i) => ({
      account_id: account,
      url: `http://a.test${path(i)}`,
      host: 'a.test',
      target: path(i),
      status: 'waiting',
      task_type: 'REFRESH',
      file_type: 'file',
      mode: 'all',
      fail_classify: null,
      fail_desc: null,
      create_time: createTime,
      modify_time: createTime,
      lease_owner: owner,
    })),
  };
}
