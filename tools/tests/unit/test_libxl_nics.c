/*
 * The network devices of upstream's JSON config (libxl_nic.c): what is read, the
 * defaults, and every malformed field refused with an error that names it, the config
 * then holding nothing.  The config reaches dom0's toolstack from another host (a
 * migration stream) or a file (a save image): hostile input.
 */
#include <stdio.h>
#include <string.h>

#include "libxl.h"
#include "test.h"

/* An upstream-style config around one "nics" value. */
static int parse(libxl_ctx *ctx, libxl_domain_config *c, const char *nics)
{
    char json[2048];

    snprintf(json, sizeof(json),
             "{ \"c_info\": { \"type\": \"pvh\", \"name\": \"gn\" }, "
             "\"b_info\": { \"max_vcpus\": 1, \"max_memkb\": 131072 }, \"nics\": %s }", nics);
    return libxl_domain_config_from_json(ctx, c, json);
}

static void refused(libxl_ctx *ctx, const char *nics, const char *names)
{
    libxl_domain_config c;
    int rc = parse(ctx, &c, nics);

    CHECK(rc != 0 && strstr(libxl_ctx_last_error(ctx), names) && c.num_nics == 0 && !c.nics,
          "refused, naming '%s': %s -> rc %d '%s'", names, nics, rc, libxl_ctx_last_error(ctx));
    if (!rc)
        libxl_domain_config_dispose(&c);
}

/* Malformed "nics" and what the error must name. */
static const struct {
    const char *nics, *names;
} bad[] = {
        { "{ }",
          "nics is not an array" },
        { "[ 7 ]",
          "nics[0] is not an object" },
        { "[ { \"devid\": 0 } ]",
          "nics[0].mac is missing" },
        { "[ { \"mac\": \"00:16:3e:00:00\" } ]",
          "nics[0].mac is not a MAC" },
        { "[ { \"mac\": \"00:16:3e:00:00:0g\" } ]",
          "nics[0].mac is not a MAC" },
        { "[ { \"mac\": \"00-16-3e-00-00-01\" } ]",
          "nics[0].mac is not a MAC" },
        { "[ { \"mac\": 5 } ]",
          "nics[0].mac is not a MAC" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"devid\": -1 } ]",
          "nics[0].devid is out of range" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"devid\": 1024 } ]",
          "nics[0].devid is out of range" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"devid\": \"0\" } ]",
          "nics[0].devid is not an integer" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\" }, { \"mac\": \"00:16:3e:00:00:02\", \"devid\": 0 } ]",
          "nics[0] and nics[1] have the same devid 0" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"mtu\": 67 } ]",
          "nics[0].mtu is below 68" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"mtu\": 65536 } ]",
          "nics[0].mtu is out of range" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"backend_domid\": 3 } ]",
          "nics[0].backend_domid is not 0" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"bridge\": \"br0; rm -rf /\" } ]",
          "nics[0].bridge" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"bridge\": \"a-bridge-name-of-16\" } ]",
          "nics[0].bridge" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"bridge\": 1 } ]",
          "nics[0].bridge is not a string" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"ifname\": \"$(reboot)\" } ]",
          "nics[0].ifname" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"script\": \"../../bin/sh\" } ]",
          "nics[0].script" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"script\": \"vif`id`\" } ]",
          "nics[0].script" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"ip\": \"1.2.3.4;x\" } ]",
          "nics[0].ip" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\", \"nictype\": \"vif_ioemu\" } ]",
          "nics[0].nictype is not \"vif\"" },
        { "[ { \"mac\": \"00:16:3e:00:00:01\" }, { \"mac\": \"bad\" } ]",
          "nics[1].mac" },
};

int main(void)
{
    libxl_domain_config c;
    libxl_ctx *ctx;
    char many[2048];
    size_t n = 0;
    int rc;

    test_sim_dir();
    if (libxl_ctx_alloc(&ctx, LIBXL_VERSION, 0, NULL)) {
        CHECK(0, "libxl_ctx_alloc");
        return test_done();
    }

    /* ---- what upstream's xl writes for vif = [ "bridge=xenbr0,mac=..." ] ---- */
    rc = parse(ctx, &c,
               "[ { \"backend_domid\": 0, \"devid\": 0, \"mac\": \"00:16:3e:63:00:02\", "
               "\"bridge\": \"xenbr0\", \"script\": \"vif-bridge\", \"nictype\": \"vif\", "
               "\"model\": \"rtl8139\", \"rate_bytes_per_interval\": 0 }, "
               "{ \"devid\": 3, \"mac\": \"AA:bb:00:00:00:ff\", \"mtu\": 9000, "
               "\"ifname\": \"gn-eth1\", \"ip\": \"10.0.0.5 10.0.0.6\", "
               "\"script\": \"/usr/local/bin/my-vif\" } ]");
    CHECK(rc == 0 && c.num_nics == 2, "two nics read (rc %d, %d nics: %s)", rc, c.num_nics,
          libxl_ctx_last_error(ctx));
    if (rc == 0 && c.num_nics == 2) {
        static const uint8_t mac0[6] = { 0x00, 0x16, 0x3e, 0x63, 0x00, 0x02 };
        static const uint8_t mac1[6] = { 0xaa, 0xbb, 0x00, 0x00, 0x00, 0xff };

        CHECK(!memcmp(c.nics[0].mac, mac0, 6) && !memcmp(c.nics[1].mac, mac1, 6),
              "MAC addresses as written (either case)");
        CHECK(c.nics[0].devid == 0 && c.nics[1].devid == 3, "devids kept");
        CHECK(c.nics[0].bridge && !strcmp(c.nics[0].bridge, "xenbr0") && !c.nics[1].bridge,
              "bridge kept, absent stays NULL (the default xenbr0 at set-up)");
        CHECK(c.nics[1].mtu == 9000 && c.nics[0].mtu == 0, "mtu kept, absent is 0 (1500)");
        CHECK(c.nics[1].ifname && !strcmp(c.nics[1].ifname, "gn-eth1") && c.nics[1].ip &&
              !strcmp(c.nics[1].ip, "10.0.0.5 10.0.0.6"), "ifname and ip kept");
        CHECK(!strcmp(c.nics[1].script, "/usr/local/bin/my-vif") &&
              !strcmp(c.nics[0].script, "vif-bridge"), "scripts kept, absolute or relative");
        CHECK(c.xen_json && strstr(c.xen_json, "rtl8139"),
              "the config is kept whole to go on (fields not modelled included)");
        libxl_domain_config_dispose(&c);
    }
    rc = parse(ctx, &c, "[ { \"mac\": \"00:16:3e:00:00:01\" }, { \"mac\": \"00:16:3e:00:00:02\" } ]");
    CHECK(rc == 0 && c.num_nics == 2 && c.nics[0].devid == 0 && c.nics[1].devid == 1,
          "no devid: the index in the list");
    if (!rc)
        libxl_domain_config_dispose(&c);
    rc = parse(ctx, &c, "[]");
    CHECK(rc == 0 && c.num_nics == 0 && !c.nics, "an empty list: no nics");
    if (!rc)
        libxl_domain_config_dispose(&c);

    /* ---- each malformed field named ---- */
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        refused(ctx, bad[i].nics, bad[i].names);

    n += (size_t)snprintf(many + n, sizeof(many) - n, "[");
    for (int i = 0; i < 33; i++)
        n += (size_t)snprintf(many + n, sizeof(many) - n, "%s{ \"mac\": \"00:16:3e:00:00:%02x\" }",
                              i ? "," : "", i);
    snprintf(many + n, sizeof(many) - n, "]");
    refused(ctx, many, "33 nics, at most 32");

    libxl_ctx_free(ctx);
    return test_done();
}
