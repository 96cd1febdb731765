{{- define "ironlb.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "ironlb.fullname" -}}
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

{{- define "ironlb.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "ironlb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "ironlb.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ironlb.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "ironlb.controller.serviceAccountName" -}}
{{- if .Values.controller.serviceAccount.create -}}
{{- default (printf "%s-controller" (include "ironlb.fullname" .)) .Values.controller.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.controller.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ironlb.speaker.serviceAccountName" -}}
{{- if .Values.speaker.serviceAccount.create -}}
{{- default (printf "%s-speaker" (include "ironlb.fullname" .)) .Values.speaker.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.speaker.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "ironlb.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{- define "ironlb.probe" -}}
{{- $p := .probe -}}
httpGet:
  path: /healthz
  port: monitoring
{{- range $k := list "failureThreshold" "initialDelaySeconds" "periodSeconds" "successThreshold" "timeoutSeconds" }}
{{- if hasKey $p $k }}
{{ $k }}: {{ get $p $k }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Where frr-k8s runs (frrk8s.namespace, else this release's namespace). */}}
{{- define "ironlb.frrk8sNamespace" -}}
{{- default .Release.Namespace .Values.frrk8s.namespace -}}
{{- end -}}

{{/* MetalLB's memberlist Secret: made by the controller (--ml-secret-name), mounted by the speakers. */}}
{{- define "ironlb.memberlistSecretName" -}}
metallb-memberlist
{{- end -}}
