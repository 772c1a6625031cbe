import { describe, expect, it } from 'vitest';
import { AnswerChecker, examplesOf } from './readme-blocks.js';

const A = '6660d1c4a3b2c1d0e9f8a7b6';
const B = '6660d1c4a3b2c1d0e9f8a7b7';
const REAL_A = '111111111111111111111111';
const REAL_B = '222222222222222222222222';

describe('README answer checker', () => {
  it('finds curl-test blocks with their answers, and only those', () => {
    const md = [
      '<!-- curl-test -->',
      '```sh',
      'curl -s x',
      '```',
      '',
      '```json',
      '{"a": 1}',
      '```',
      '',
      '```sh',
      'not tested',
      '```',
      '',
    ].join('\n');
    expect(examplesOf(md)).toEqual([{ line: 2, script: 'curl -s x\n', expected: { lang: 'json', text: '{"a": 1}\n' } }]);
    expect(() => examplesOf('<!-- curl-test -->\n```sh\ncurl x\n```\n')).toThrow(/must be followed/);
  });

  it('matches any id, but the same documented id always to the same real id', () => {
    const checker = new AnswerChecker();
    expect(checker.check({ lang: 'json', text: `{"id": "${A}"}` }, `{"id": "${REAL_A}"}`)).toEqual([]);
    expect(checker.check({ lang: 'text', text: `/api/users/${A}` }, `/api/users/${REAL_A}`)).toEqual([]);
    expect(checker.check({ lang: 'json', text: `{"next": "${A}"}` }, `{"next": "${REAL_B}"}`)).not.toEqual([]);
    expect(checker.check({ lang: 'json', text: `{"id": "${B}"}` }, `{"id": "${REAL_A}"}`)).not.toEqual([]);
  });

  it('matches any timestamp but every other value exactly', () => {
    const checker = new AnswerChecker();
    expect(
      checker.check(
        { lang: 'json', text: '{"at": "2024-06-05T20:45:24.000Z", "done": false}' },
        '{"at": "2031-01-01T00:00:00.123Z", "done": false}',
      ),
    ).toEqual([]);
    expect(checker.check({ lang: 'json', text: '{"done": false}' }, '{"done": true}')).toHaveLength(1);
    expect(checker.check({ lang: 'json', text: '{"done": false}' }, '{"done": false, "extra": 1}')).toHaveLength(1);
    expect(checker.check({ lang: 'json', text: '[1, 2]' }, '[1]')).toHaveLength(1);
    expect(checker.check({ lang: 'json', text: '{"a": 1}' }, 'curl: (7) Failed to connect')).toHaveLength(1);
  });

  it('checks the status line, the documented headers and the body of an http answer', () => {
    const checker = new AnswerChecker();
    const documented = 'HTTP/1.1 201 Created\nLocation: /x\nContent-Type: application/json\n\n{"ok": true}\n';
    const actual = 'HTTP/1.1 201 Created\r\ncontent-type: application/json\r\nlocation: /x\r\ndate: now\r\n\r\n{"ok":true}';
    expect(checker.check({ lang: 'http', text: documented }, actual)).toEqual([]);
    expect(checker.check({ lang: 'http', text: documented }, actual.replace('201 Created', '200 OK'))).toHaveLength(1);
    expect(checker.check({ lang: 'http', text: documented }, actual.replace('location: /x\r\n', ''))).toHaveLength(1);
    expect(checker.check({ lang: 'http', text: 'HTTP/1.1 204 No Content\n' }, 'HTTP/1.1 204 No Content\r\ndate: now\r\n\r\n')).toEqual([]);
    expect(checker.check({ lang: 'http', text: 'HTTP/1.1 204 No Content\n' }, 'HTTP/1.1 204 No Content\r\n\r\n{"x":1}')).toHaveLength(1);
  });
});
