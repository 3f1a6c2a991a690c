// The task object as the SDK models read it (huawei-cdn-api.md §4 TasksObject), for response schemas.
import { Type } from '@sinclair/typebox';

export const TaskObject = Type.Object({
  id: Type.String(),
  task_type: Type.String(),
  status: Type.String(),
  processing: Type.Integer(),
  succeed: Type.Integer(),
  failed: Type.Integer(),
  total: Type.Integer(),
  create_time: Type.Integer(),
  file_type: Type.String(),
});
