/**
 * The benchmark's "otel" variant: the stand-in instrumented the way the OpenTelemetry docs
 * tell a Node.js user to get Prometheus metrics (NodeSDK + PrometheusExporter +
 * HttpInstrumentation, ESM loader hook registered first). Preloaded with `--import`, with
 * the app's own hook switched off (METRICS_ENABLED=false) and traces and logs off, so
 * only metrics are compared.
 */
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url);

const { NodeSDK } = await import('@opentelemetry/sdk-node');
const { PrometheusExporter } = await import('@opentelemetry/exporter-prometheus');
const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');

const sdk = new NodeSDK({
  serviceName: 'taskplanner-standin',
  metricReaders: [new PrometheusExporter({ port: Number(process.env.OTEL_PROMETHEUS_PORT ?? 9464) })],
  instrumentations: [new HttpInstrumentation()],
});
sdk.start();
process.once('SIGTERM', () => void sdk.shutdown());
