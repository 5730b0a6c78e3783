// Package crds only pins github.com/fluxcd/helm-controller/api, whose types controller-gen reads.
package crds

import _ "github.com/fluxcd/helm-controller/api/v2"
