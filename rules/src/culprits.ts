/**
 * The culprit in every page: text appended to an alert's description (by renderGroups in index.ts) that names
 * what another series knows about the cause, looked up when the alert fires with Prometheus' template function
 * `query` (https://prometheus.io/docs/prometheus/latest/configuration/template_reference/). Each part is inside
 * `{{ with … }}`: where the series it asks for does not exist, it adds nothing. Keyed by alert name;
 * test/rules/culprits.test.ts checks each key is a shipped alert, and rules/tests/culprits.test.yml proves the
 * text with promtool.
 */

/** One holder of GPU memory: its container, or its process name outside any container. `$s` is a query sample. */
const HOLDER = '{{ with $s.Labels.container }}{{ . }}{{ else }}process {{ $s.Labels.process }}{{ end }}';

/** Free VRAM of every GPU of the exporter that raised the alert, then its three biggest holders. */
const HOST_VRAM =
  '{{ with printf "silentwatch_gpu_memory_free_bytes{instance=%q}" $labels.instance | query | sortByLabel "gpu" }}' +
  ' Free VRAM now: {{ range $i, $s := . }}{{ if $i }}, {{ end }}GPU {{ $s.Labels.gpu }} {{ $s.Value | humanize1024 }}B{{ end }}.{{ end }}' +
  '{{ with printf "sort_desc(topk(3, sum by (gpu, container, process) (silentwatch_gpu_process_memory_bytes{instance=%q})))" $labels.instance | query }}' +
  ` Biggest VRAM holders: {{ range $i, $s := . }}{{ if $i }}, {{ end }}${HOLDER} {{ $s.Value | humanize1024 }}B on GPU {{ $s.Labels.gpu }}{{ end }}.{{ end }}`;

export const CULPRITS: Readonly<Record<string, string>> = {
  GpuFreeVramLow:
    '{{ with printf "sort_desc(topk(3, sum by (container, process) (silentwatch_gpu_process_memory_bytes{instance=%q, uuid=%q})))" $labels.instance $labels.uuid | query }}' +
    ` Biggest VRAM holders of this GPU: {{ range $i, $s := . }}{{ if $i }}, {{ end }}${HOLDER} {{ $s.Value | humanize1024 }}B{{ end }}.{{ end }}`,
  LlamaSwapModelLoadFailing: HOST_VRAM,
  LlamaSwapHighErrorRate: HOST_VRAM,
  ContainerOOMKillInside:
    '{{ with printf "silentwatch_container_memory_working_set_bytes{instance=%q, id=%q}" $labels.instance $labels.id | query }}{{ $ws := . | first | value | humanize1024 }}' +
    '{{ with printf "silentwatch_container_memory_limit_bytes{instance=%q, id=%q}" $labels.instance $labels.id | query }}' +
    ' Memory limit {{ . | first | value | humanize1024 }}B, working set now {{ $ws }}B.{{ else }} No memory limit; working set now {{ $ws }}B.{{ end }}{{ end }}',
  QueueStalled:
    '{{ with printf "silentwatch_queue_workers{instance=%q, redis=%q, prefix=%q, queue=%q}" $labels.instance $labels.redis $labels.prefix $labels.queue | query }}' +
    ' Worker connections to this queue in Redis now: {{ . | first | value | humanize }}.{{ end }}',
  QueueNoWorkers:
    '{{ with printf "sort_desc(topk(5, silentwatch_queue_workers{instance=%q, redis=%q, prefix=%q} > 0))" $labels.instance $labels.redis $labels.prefix | query }}' +
    ' Workers are connected to other queues of {{ $labels.prefix }} ({{ range $i, $s := . }}{{ if $i }}, {{ end }}{{ $s.Labels.queue }}: {{ $s.Value }}{{ end }}):' +
    ' the worker process runs but nothing consumes this queue.' +
    '{{ else }} No queue of {{ $labels.prefix }} has a worker connected: the worker process is down or cannot reach Redis.{{ end }}',
};
