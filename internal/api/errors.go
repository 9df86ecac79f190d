package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"syscall"

	"github.com/wharfhq/wharf/internal/api/model"
	"github.com/wharfhq/wharf/internal/registry"
	"github.com/wharfhq/wharf/internal/sigv4"
	"github.com/wharfhq/wharf/internal/store"
)

// apiError is an AWS error response: x-amzn-ErrorType names the code, the
// JSON body carries the message (and resource fields where the model has them).
type apiError struct {
	Code         string
	Status       int
	Message      string
	ResourceID   string
	ResourceType string
	Reason       string
}

func (e *apiError) Error() string { return e.Code + ": " + e.Message }

// toAPIError is the one place registry and validation errors become AWS
// error shapes.
func toAPIError(err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	var bm *sigv4.BodyMismatchError
	if errors.As(err, &bm) {
		return assetHashMismatch(bm)
	}
	if errors.Is(err, syscall.ENOSPC) {
		// Not a 500: botocore retries those, and a full disk stays full.
		// The model's ServiceQuotaExceededException (402) is not retried.
		return &apiError{Code: "ServiceQuotaExceededException", Status: http.StatusPaymentRequired,
			Message: "the wharf server's disk is full (no space left on device): nothing was stored; the administrator must free space or grow the volume before anything more can be written"}
	}
	var ve *model.ValidationError
	if errors.As(err, &ve) {
		reason := "FIELD_VALIDATION_FAILED"
		if ve.Parse {
			reason = "CANNOT_PARSE"
		}
		return &apiError{Code: "ValidationException", Status: http.StatusBadRequest, Message: ve.Error(), Reason: reason}
	}
	if errors.Is(err, store.ErrBadCursor) {
		return &apiError{Code: "ValidationException", Status: http.StatusBadRequest, Reason: "FIELD_VALIDATION_FAILED",
			Message: "the nextToken is not one this server issued (or the listing's filters changed); start again without --starting-token/nextToken"}
	}
	var re *registry.Error
	if errors.As(err, &re) {
		switch re.Kind {
		case registry.KindNotFound:
			return &apiError{Code: "ResourceNotFoundException", Status: http.StatusNotFound, Message: re.Message, ResourceID: re.ResourceID, ResourceType: re.ResourceType}
		case registry.KindConflict:
			return &apiError{Code: "ConflictException", Status: http.StatusConflict, Message: re.Message, ResourceID: re.ResourceID, ResourceType: re.ResourceType}
		case registry.KindValidation:
			return &apiError{Code: "ValidationException", Status: http.StatusBadRequest, Message: re.Message, Reason: "FIELD_VALIDATION_FAILED"}
		case registry.KindForbidden:
			return &apiError{Code: "AccessDeniedException", Status: http.StatusForbidden, Message: re.Message}
		case registry.KindGone:
			// The version exists but its status forbids the request: the
			// model lists ConflictException for GetPackageVersionAsset.
			return &apiError{Code: "ConflictException", Status: http.StatusConflict, Message: re.Message, ResourceID: re.ResourceID, ResourceType: re.ResourceType}
		}
	}
	if registry.Unavailable(err) {
		return &apiError{Code: "ServiceUnavailableException", Status: http.StatusServiceUnavailable,
			Message: "wharf's storage (metadata database or blob store) is unreachable right now; retry in a few seconds"}
	}
	return &apiError{Code: "InternalServerException", Status: http.StatusInternalServerError, Message: "internal error; the server log has details"}
}

// assetHashMismatch is a genuine request whose asset does not hash to the
// assetSHA256 (x-amz-content-sha256) it states.
func assetHashMismatch(bm *sigv4.BodyMismatchError) *apiError {
	return &apiError{Code: "ValidationException", Status: http.StatusBadRequest, Reason: "FIELD_VALIDATION_FAILED",
		Message: fmt.Sprintf("the asset content does not match assetSHA256: the request states %s (sent as x-amz-content-sha256), but the SHA-256 of the content received is %s. Nothing was stored; compute the hash of the file you send (sha256sum FILE) and retry", bm.Stated, bm.Actual)}
}

func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	ae := toAPIError(err)
	if ae.Status >= 500 || ae.Status == http.StatusPaymentRequired && errors.Is(err, syscall.ENOSPC) {
		method, path := "", ""
		if r != nil {
			method, path = r.Method, r.URL.Path
		}
		log.Error("control plane request failed", "method", method, "path", path, "request_id", RequestID(w), "err", err)
	}
	body := map[string]string{"message": ae.Message}
	if ae.ResourceID != "" {
		body["resourceId"] = ae.ResourceID
	}
	if ae.ResourceType != "" {
		body["resourceType"] = ae.ResourceType
	}
	if ae.Reason != "" {
		body["reason"] = ae.Reason
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("x-amzn-ErrorType", ae.Code)
	if ae.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", registry.RetryAfterSeconds)
	}
	w.WriteHeader(ae.Status)
	json.NewEncoder(w).Encode(body)
}
