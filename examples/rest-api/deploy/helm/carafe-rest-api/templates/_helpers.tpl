{{/* The name of every object of a release: "<release>-carafe-rest-api", at most 63 characters. */}}
{{- define "carafe-rest-api.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels that select the pods; they never change over a release's life. */}}
{{- define "carafe-rest-api.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "carafe-rest-api.labels" -}}
{{ include "carafe-rest-api.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The Secret holding MONGODB_URI: the user's own, or the chart's. */}}
{{- define "carafe-rest-api.secretName" -}}
{{- default (include "carafe-rest-api.fullname" .) .Values.mongodb.existingSecret -}}
{{- end -}}
