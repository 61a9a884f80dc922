/**
 * Baselines (a) of the bench: a bare Express app, or a bare node:http server, answering, on each scenario's
 * path and method, a fixed body of the same bytes and content type as dualgate's answer there. No parsing,
 * no store, no logging. With `workers` > 1 it runs under node:cluster like `dualgate serve --workers`.
 * Forked by `bench/run.ts`.
 */
import cluster from 'node:cluster';
import { createServer } from 'node:http';
import express from 'express';

export interface BaselineRoute {
  method: 'GET' | 'POST';
  path: string;
  contentType: string;
  body: string;
}

export interface BaselineJob {
  port: number;
  workers: number;
  routes: BaselineRoute[];
  server: 'express' | 'node';
}

function serve(job: BaselineJob): void {
  if (job.server === 'node') {
    serveNode(job);
    return;
  }
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  for (const route of job.routes) {
    const body = Buffer.from(route.body, 'utf8');
    const handler = (_req: express.Request, res: express.Response) => {
      res.status(200).set('Content-Type', route.contentType).send(body);
    };
    if (route.method === 'GET') app.get(route.path, handler);
    else app.post(route.path, handler);
  }
  app.listen(job.port, '127.0.0.1', () => process.send?.({ listening: true }));
}

/** node:http alone: the route found by method and path in a map, the fixed body written. */
function serveNode(job: BaselineJob): void {
  const routes = new Map(job.routes.map((route) => [`${route.method} ${route.path}`, { type: route.contentType, body: Buffer.from(route.body, 'utf8') }]));
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const route = routes.get(`${req.method} ${query === -1 ? url : url.slice(0, query)}`);
    // The request body is read to its end, as any server must before it can answer on a kept-alive connection.
    req.resume();
    req.once('end', () => {
      if (!route) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'Content-Type': route.type, 'Content-Length': route.body.length }).end(route.body);
    });
  });
  server.listen(job.port, '127.0.0.1', () => process.send?.({ listening: true }));
}

if (require.main === module) {
  if (cluster.isWorker) {
    serve(JSON.parse(process.env.BASELINE_JOB!) as BaselineJob);
  } else {
    process.once('message', (job: BaselineJob) => {
      if (job.workers <= 1) {
        serve(job);
        return;
      }
      let listening = 0;
      for (let i = 0; i < job.workers; i++) {
        cluster.fork({ BASELINE_JOB: JSON.stringify(job) }).on('message', () => {
          if (++listening === job.workers) process.send?.({ listening: true });
        });
      }
      process.once('SIGTERM', () => {
        for (const worker of Object.values(cluster.workers ?? {})) worker?.kill();
        process.exit(0);
      });
    });
  }
}
