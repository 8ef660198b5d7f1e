/* Replaced by the IMAP session (Spine 2); keeps the target non-empty. */
int ims_session_placeholder_;
