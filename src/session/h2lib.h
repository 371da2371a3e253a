/*
 * h2lib.h - nghttp2 for the relay's HTTP/2 connections (relay_h2*.c),
 * loaded when a rule file names an http2=on proxy, not with proxywrap
 * (see tlslib.h).  Included by the relay's HTTP/2 files after
 * <nghttp2/nghttp2.h>; a function they start to use goes into the list.
 */
#ifndef PROXYWRAP_H2LIB_H
#define PROXYWRAP_H2LIB_H

#include <stddef.h>

#include <nghttp2/nghttp2.h>

#define H2LIB_FUNCS(X) \
	X(nghttp2_option_del) X(nghttp2_option_new) \
	X(nghttp2_option_set_no_auto_window_update) \
	X(nghttp2_session_callbacks_del) X(nghttp2_session_callbacks_new) \
	X(nghttp2_session_callbacks_set_on_data_chunk_recv_callback) \
	X(nghttp2_session_callbacks_set_on_frame_not_send_callback) \
	X(nghttp2_session_callbacks_set_on_frame_recv_callback) \
	X(nghttp2_session_callbacks_set_on_header_callback) \
	X(nghttp2_session_callbacks_set_on_stream_close_callback) \
	X(nghttp2_session_client_new2) X(nghttp2_session_consume) \
	X(nghttp2_session_del) X(nghttp2_session_get_stream_user_data) \
	X(nghttp2_session_mem_recv) X(nghttp2_session_mem_send) \
	X(nghttp2_session_resume_data) \
	X(nghttp2_session_set_local_window_size) \
	X(nghttp2_session_set_stream_user_data) \
	X(nghttp2_session_terminate_session) X(nghttp2_session_want_read) \
	X(nghttp2_session_want_write) X(nghttp2_submit_request) \
	X(nghttp2_submit_rst_stream) X(nghttp2_submit_settings)

struct h2lib {
#define H2LIB_PTR(f) __typeof__(f) *f;
	H2LIB_FUNCS(H2LIB_PTR)
#undef H2LIB_PTR
};

extern struct h2lib h2lib;

/* Load libnghttp2 and fill the table, once, before the relay's threads
 * start.  0, or -1 with why[] saying what is missing. */
int h2lib_load(char *why, size_t whylen);

#ifndef OPTLIB_NO_NAMES
#define nghttp2_option_del (*h2lib.nghttp2_option_del)
#define nghttp2_option_new (*h2lib.nghttp2_option_new)
#define nghttp2_option_set_no_auto_window_update \
	(*h2lib.nghttp2_option_set_no_auto_window_update)
#define nghttp2_session_callbacks_del (*h2lib.nghttp2_session_callbacks_del)
#define nghttp2_session_callbacks_new (*h2lib.nghttp2_session_callbacks_new)
#define nghttp2_session_callbacks_set_on_data_chunk_recv_callback \
	(*h2lib.nghttp2_session_callbacks_set_on_data_chunk_recv_callback)
#define nghttp2_session_callbacks_set_on_frame_not_send_callback \
	(*h2lib.nghttp2_session_callbacks_set_on_frame_not_send_callback)
#define nghttp2_session_callbacks_set_on_frame_recv_callback \
	(*h2lib.nghttp2_session_callbacks_set_on_frame_recv_callback)
#define nghttp2_session_callbacks_set_on_header_callback \
	(*h2lib.nghttp2_session_callbacks_set_on_header_callback)
#define nghttp2_session_callbacks_set_on_stream_close_callback \
	(*h2lib.nghttp2_session_callbacks_set_on_stream_close_callback)
#define nghttp2_session_client_new2 (*h2lib.nghttp2_session_client_new2)
#define nghttp2_session_consume (*h2lib.nghttp2_session_consume)
#define nghttp2_session_del (*h2lib.nghttp2_session_del)
#define nghttp2_session_get_stream_user_data \
	(*h2lib.nghttp2_session_get_stream_user_data)
#define nghttp2_session_mem_recv (*h2lib.nghttp2_session_mem_recv)
#define nghttp2_session_mem_send (*h2lib.nghttp2_session_mem_send)
#define nghttp2_session_resume_data (*h2lib.nghttp2_session_resume_data)
#define nghttp2_session_set_local_window_size \
	(*h2lib.nghttp2_session_set_local_window_size)
#define nghttp2_session_set_stream_user_data \
	(*h2lib.nghttp2_session_set_stream_user_data)
#define nghttp2_session_terminate_session \
	(*h2lib.nghttp2_session_terminate_session)
#define nghttp2_session_want_read (*h2lib.nghttp2_session_want_read)
#define nghttp2_session_want_write (*h2lib.nghttp2_session_want_write)
#define nghttp2_submit_request (*h2lib.nghttp2_submit_request)
#define nghttp2_submit_rst_stream (*h2lib.nghttp2_submit_rst_stream)
#define nghttp2_submit_settings (*h2lib.nghttp2_submit_settings)
#endif

#endif
