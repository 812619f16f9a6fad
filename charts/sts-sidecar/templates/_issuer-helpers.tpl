{{/* Object names of the issuer publisher: <fullname>-issuer[-suffix], within 63 characters (fullname is at most 52). */}}
{{- define "sts-sidecar.issuer.fullname" -}}
{{- printf "%s-issuer" (include "sts-sidecar.fullname" .) }}
{{- end }}

{{/* Labels that select the issuer's pods; never change them on upgrade (Deployment selectors are immutable). */}}
{{- define "sts-sidecar.issuer.selectorLabels" -}}
app.kubernetes.io/name: {{ include "sts-sidecar.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: issuer
{{- end }}

{{- define "sts-sidecar.issuer.serviceAccountName" -}}
{{- default (include "sts-sidecar.issuer.fullname" .) .Values.issuer.serviceAccount.name }}
{{- end }}

{{/* The Secret with the serving certificate, whatever issuer.tls.mode. */}}
{{- define "sts-sidecar.issuer.tlsSecretName" -}}
{{- if eq .Values.issuer.tls.mode "secret" }}
{{- .Values.issuer.tls.secret.name }}
{{- else }}
{{- printf "%s-tls" (include "sts-sidecar.issuer.fullname" .) }}
{{- end }}
{{- end }}

{{/* The Secret with ca.key, the key of the CA that issues the x5c certificates. */}}
{{- define "sts-sidecar.issuer.caSecretName" -}}
{{- default (printf "%s-ca-key" (include "sts-sidecar.issuer.fullname" .)) .Values.issuer.caKey.existingSecret }}
{{- end }}

{{/* DNS names of the serving certificate: the Service's in-cluster names, then issuer.tls.extraDnsNames. */}}
{{- define "sts-sidecar.issuer.dnsNames" -}}
{{- $svc := include "sts-sidecar.issuer.fullname" . }}
{{- $ns := .Release.Namespace }}
{{- concat (list $svc (printf "%s.%s" $svc $ns) (printf "%s.%s.svc" $svc $ns) (printf "%s.%s.svc.cluster.local" $svc $ns)) .Values.issuer.tls.extraDnsNames | uniq | toJson }}
{{- end }}
