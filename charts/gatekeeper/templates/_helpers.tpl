{{/* Names and labels shared by every object of the chart. */}}

{{- define "gatekeeper.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatekeeper.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "gatekeeper.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "gatekeeper.selectorLabels" -}}
app.kubernetes.io/name: {{ include "gatekeeper.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "gatekeeper.labels" -}}
helm.sh/chart: {{ include "gatekeeper.chart" . }}
{{ include "gatekeeper.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: gatekeeper
{{- end -}}

{{- define "gatekeeper.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "gatekeeper.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The Secret holding tls.crt, tls.key and ca.crt: written by cert-manager, or by Gatekeeper itself (never by the chart, so
every render is the same). The two have different names: a helm upgrade from a chart version that rendered the Secret
deletes that one, and must not delete the one Gatekeeper keeps.
*/}}
{{- define "gatekeeper.tlsSecretName" -}}
{{- if .Values.tls.certManager.enabled -}}
{{- printf "%s-tls" (include "gatekeeper.fullname" .) -}}
{{- else -}}
{{- printf "%s-webhook-tls" (include "gatekeeper.fullname" .) -}}
{{- end -}}
{{- end -}}

{{/* The Secret in the release namespace holding the key that signs migration Jobs; Gatekeeper creates it. */}}
{{- define "gatekeeper.jobSigningSecretName" -}}
{{- printf "%s-job-signing" (include "gatekeeper.fullname" .) -}}
{{- end -}}

{{/* The DNS name the API server calls: <service>.<namespace>.svc */}}
{{- define "gatekeeper.serviceDnsName" -}}
{{- printf "%s.%s.svc" (include "gatekeeper.fullname" .) .Release.Namespace -}}
{{- end -}}

{{- define "gatekeeper.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository $tag -}}
{{- end -}}
{{- end -}}

{{/* A value as .NET configuration reads it: YAML numbers arrive as floats (4194304 would print as 4.194304e+06). */}}
{{- define "gatekeeper.configValue" -}}
{{- if kindIs "float64" . -}}
{{- int64 . | toString | quote -}}
{{- else -}}
{{- toString . | quote -}}
{{- end -}}
{{- end -}}

{{/*
One options section as environment variables, the way .NET configuration binds them: {section}__{Key} for a
value, {section}__{Key}__{index} for each element of a list. Call with (dict "section" "Webhook" "values" …).
*/}}
{{- define "gatekeeper.optionVariables" -}}
{{- $section := .section -}}
{{- range $key, $value := .values }}
{{- if kindIs "slice" $value }}
{{- range $index, $item := $value }}
- name: {{ $section }}__{{ $key | title }}__{{ $index }}
  value: {{ include "gatekeeper.configValue" $item }}
{{- end }}
{{- else }}
- name: {{ $section }}__{{ $key | title }}
  value: {{ include "gatekeeper.configValue" $value }}
{{- end }}
{{- end }}
{{- end -}}

{{/* 86400 → "1.00:00:00": whole seconds as a .NET time span. */}}
{{- define "gatekeeper.secondsTimeSpan" -}}
{{- $s := int64 . -}}
{{- printf "%d.%02d:%02d:%02d" (div $s 86400) (mod (div $s 3600) 24) (mod (div $s 60) 60) (mod $s 60) -}}
{{- end -}}

{{/* "00:00:08.5" → 8 (whole seconds, rounded down); days ("1.00:00:00") are not accepted by the schema. */}}
{{- define "gatekeeper.timeSpanSeconds" -}}
{{- $parts := splitList ":" . -}}
{{- $seconds := index $parts 2 | splitList "." | first | atoi -}}
{{- add (mul (index $parts 0 | atoi) 3600) (mul (index $parts 1 | atoi) 60) $seconds -}}
{{- end -}}

{{/*
The namespaces the webhooks never see: kube-system (a webhook there can stop the cluster from healing itself), the
release namespace (Gatekeeper must never wait for itself), and any the user adds. With watchNamespaces, only those.
*/}}
{{- define "gatekeeper.namespaceSelector" -}}
{{- $excluded := concat (list "kube-system" .Release.Namespace) .Values.admission.excludedNamespaces | uniq -}}
{{- with .Values.admission.namespaceSelector.matchLabels }}
matchLabels:
  {{- toYaml . | nindent 2 }}
{{- end }}
matchExpressions:
  - key: kubernetes.io/metadata.name
    operator: NotIn
    values:
      {{- toYaml $excluded | nindent 6 }}
  {{- with .Values.watchNamespaces }}
  - key: kubernetes.io/metadata.name
    operator: In
    values:
      {{- toYaml . | nindent 6 }}
  {{- end }}
  {{- with .Values.admission.namespaceSelector.matchExpressions }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}

{{/* Where Gatekeeper may read Secrets and ConfigMaps: sourceNamespaces and watchNamespaces, once each, as a JSON list. */}}
{{- define "gatekeeper.sourceNamespaces" -}}
{{- $namespaces := concat .Values.sourceNamespaces .Values.watchNamespaces | uniq -}}
{{- if has .Release.Namespace $namespaces -}}
{{- fail (printf "sourceNamespaces/watchNamespaces: %s is the release namespace, which the webhooks never serve" .Release.Namespace) -}}
{{- end -}}
{{- toJson $namespaces -}}
{{- end -}}

{{/* The CEL opt-in test: only annotated objects are ever sent to Gatekeeper. */}}
{{- define "gatekeeper.annotationCondition" -}}
object != null && has(object.metadata.annotations) && '{{ . }}' in object.metadata.annotations
{{- end -}}

{{/*
The mutating Deployment webhook also sees a Deployment that opted out: the annotation was on the old object, or its
pod template still carries the plan stamp. Gatekeeper then removes the stamps, so no new pod is held for a plan
nobody runs any more.
*/}}
{{- define "gatekeeper.optedInOrStampedCondition" -}}
(object != null && has(object.metadata.annotations) && ('gatekeeper.dev/migrations' in object.metadata.annotations || 'gatekeeper.dev/schema' in object.metadata.annotations)) || (oldObject != null && has(oldObject.metadata.annotations) && ('gatekeeper.dev/migrations' in oldObject.metadata.annotations || 'gatekeeper.dev/schema' in oldObject.metadata.annotations)) || (object != null && has(object.spec.template.metadata) && has(object.spec.template.metadata.annotations) && 'gatekeeper.dev/plan' in object.spec.template.metadata.annotations)
{{- end -}}

{{/* Opted in: migration files (gatekeeper.dev/migrations) or a desired schema (gatekeeper.dev/schema). */}}
{{- define "gatekeeper.optedInCondition" -}}
object != null && has(object.metadata.annotations) && ('gatekeeper.dev/migrations' in object.metadata.annotations || 'gatekeeper.dev/schema' in object.metadata.annotations)
{{- end -}}
