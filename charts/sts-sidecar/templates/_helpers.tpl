{{/* Chart name, overridable. */}}
{{- define "sts-sidecar.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every object name. 52 characters leave room for the longest suffix we append
("-webhook-tls" and friends) within the 63 of a DNS label.
*/}}
{{- define "sts-sidecar.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "sts-sidecar.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels that select the webhook's pods; never change them on upgrade (Deployment selectors are immutable). */}}
{{- define "sts-sidecar.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sts-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{/*
Standard labels. Call with (dict "ctx" $ "component" "webhook").
*/}}
{{- define "sts-sidecar.labels" -}}
{{- $ctx := .ctx -}}
helm.sh/chart: {{ include "sts-sidecar.chart" $ctx }}
app.kubernetes.io/name: {{ include "sts-sidecar.name" $ctx }}
app.kubernetes.io/instance: {{ $ctx.Release.Name }}
app.kubernetes.io/version: {{ $ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ $ctx.Release.Service }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: sts-sidecar
{{- end }}

{{- define "sts-sidecar.serviceAccountName" -}}
{{- default (include "sts-sidecar.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* The one image reference for the webhook and the injected sidecar; a digest wins over the tag. */}}
{{- define "sts-sidecar.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* Name of the Secret holding the webhook's serving certificate, whatever the TLS mode. */}}
{{- define "sts-sidecar.tlsSecretName" -}}
{{- if eq .Values.tls.mode "secret" }}
{{- .Values.tls.secret.name }}
{{- else }}
{{- printf "%s-webhook-tls" (include "sts-sidecar.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Certificate whose CA cert-manager's cainjector copies into the webhook configuration. */}}
{{- define "sts-sidecar.certificateName" -}}
{{- printf "%s-webhook-tls" (include "sts-sidecar.fullname" .) }}
{{- end }}

{{/* DNS names the API server may use for the Service (it uses <svc>.<ns>.svc). */}}
{{- define "sts-sidecar.dnsNames" -}}
{{- $svc := include "sts-sidecar.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns) | toJson }}
{{- end }}
