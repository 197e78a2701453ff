// Package errcode writes the error body that the registry's clients and Harbor's clients both parse: {"errors":[{"code":"...","message":"..."}]}.
package errcode
