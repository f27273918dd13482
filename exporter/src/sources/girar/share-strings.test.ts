import { describe, expect, it } from 'vitest';
import { internStrings, shareStrings } from './share-strings.js';
import { checkTaskDetail, checkTaskListItem, type TaskDetail, type TaskListItem } from './upstream.js';

const item = (): TaskListItem => {
  const v: unknown = JSON.parse(
    '{"id":7,"state":"BUILDING","repo":"sisyphus","owner":"rider","created":"2026-03-16T12:22:27","age":0,"test_only":false,"fail_early":false,"message":"update the PDAL stack","subtasks":{"100":{"dir":"/gears/p/pdal.git","tag_name":"2.9.3-alt1","type":"repo","userid":"rider","pkgname":"pdal"},"200":{"dir":"/gears/g/grass.git","tag_name":"8.4.2-alt1","userid":"rider","pkgname":"grass"}}}',
  );
  if (!checkTaskListItem.Check(v)) throw new Error('bad fixture');
  return v;
};
const detail = (): TaskDetail => {
  const v: unknown = JSON.parse(
    '{"updated":1773681066,"taskid":7,"shared":false,"fail_early":false,"test_only":false,"repo":"sisyphus","state":"BUILDING","age":0,"owner":"rider","message":"a different message","subtasks":{"100":{"dir":"/gears/p/pdal.git","tag_name":"2.9.3-alt2","tag_author":"Rider <rider@altlinux.org>","type":"repo","userid":"rider","pkgname":"pdal","build":{"x86_64":"built"}},"300":{"srpm":"qgis-3.44.7-alt2.src.rpm","userid":"rider"}}}',
  );
  if (!checkTaskDetail.Check(v)) throw new Error('bad fixture');
  return v;
};

describe('shareStrings / internStrings', () => {
  it('changes no value and adds no key, whichever way round and however the two differ', () => {
    for (const [target, source] of [
      [item(), detail()],
      [detail(), item()],
    ] as const) {
      const before = JSON.stringify(target);
      shareStrings(target, source);
      internStrings(target);
      expect(JSON.stringify(target)).toBe(before);
    }
  });
});
