package wrapper_test

import (
	"context"

	"github.com/fileup/fileup/gen/evolink"
	"github.com/fileup/fileup/gen/kie"
)

// The fakes answer the operations the wrapper does not call with a 500.

func (fakeKie) UploadFileBase64(context.Context, kie.UploadFileBase64RequestObject) (kie.UploadFileBase64ResponseObject, error) {
	return kie.UploadFileBase64500JSONResponse{Code: kie.StatusServerError, Msg: "not faked"}, nil
}

func (fakeKie) UploadFileUrl(context.Context, kie.UploadFileUrlRequestObject) (kie.UploadFileUrlResponseObject, error) {
	return kie.UploadFileUrl500JSONResponse{Code: kie.StatusServerError, Msg: "not faked"}, nil
}

func (fakeEvolink) UploadFileBase64(context.Context, evolink.UploadFileBase64RequestObject) (evolink.UploadFileBase64ResponseObject, error) {
	return evolink.UploadFileBase64500JSONResponse{Code: 500, Msg: "not faked"}, nil
}

func (fakeEvolink) UploadFileUrl(context.Context, evolink.UploadFileUrlRequestObject) (evolink.UploadFileUrlResponseObject, error) {
	return evolink.UploadFileUrl500JSONResponse{Code: 500, Msg: "not faked"}, nil
}

func (fakeEvolink) GetFilesQuota(context.Context, evolink.GetFilesQuotaRequestObject) (evolink.GetFilesQuotaResponseObject, error) {
	return evolink.GetFilesQuota500JSONResponse{Code: 500, Msg: "not faked"}, nil
}

func (fakeEvolink) DownloadFile(context.Context, evolink.DownloadFileRequestObject) (evolink.DownloadFileResponseObject, error) {
	return evolink.DownloadFile500JSONResponse{Code: 500, Msg: "not faked"}, nil
}
