import { createApp, type App, type AppDeps } from './app.ts';

export interface RunningServer {
  readonly app: App;
  readonly url: string;
  close(): Promise<void>;
}

// Creates the app and listens. Shutdown closes the listener first, then the database.
export async function startServer(deps: AppDeps): Promise<RunningServer> {
  const app = await createApp(deps);
  const address = await app.http.listen({ host: deps.config.host, port: deps.config.port });
  const url = address.replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  app.background.start();
  let closing: Promise<void> | undefined;
  return {
    app,
    url,
    close: () => (closing ??= app.close()),
  };
}

export function closeOnSignals(
  server: { close(): Promise<void> },
  onClosed: () => void = () => process.exit(0),
): void {
  const stop = () => {
    void server.close().finally(onClosed);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
