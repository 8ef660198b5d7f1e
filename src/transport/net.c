int ims_net_placeholder_;
