package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/wharfhq/wharf/internal/api/model"
	"github.com/wharfhq/wharf/internal/registry"
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

func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	ae := toAPIError(err)
	if ae.Status >= 500 {
		log.Error("control plane request failed", "method", r.Method, "path", r.URL.Path, "err", err)
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
