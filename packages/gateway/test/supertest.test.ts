import { toNodeListener, type TsgiApplication } from '@carafe/gateway';
import request from 'supertest';
import { describe, expect, it } from 'vitest';

describe('toNodeListener', () => {
  it('serves a GET through supertest', async () => {
    const app: TsgiApplication = (environ, startResponse) => {
      startResponse('200 OK', [['Content-Type', 'text/plain; charset=utf-8']]);
      return [`hello ${environ.PATH_INFO} ${environ.QUERY_STRING}`];
    };
    const res = await request(toNodeListener(app)).get('/w%C3%B6rld?x=1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['content-length']).toBe(String(Buffer.byteLength('hello /wörld x=1')));
    expect(res.text).toBe('hello /wörld x=1');
  });
});
