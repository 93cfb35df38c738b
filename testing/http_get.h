// A minimal HTTP/1.0 GET over loopback, for tests that read /metrics or a web page without
// pulling in a client library.
#ifndef MW_TESTING_HTTP_GET_H_
#define MW_TESTING_HTTP_GET_H_

#include <string>

namespace mw::testing {

// The response body of GET `path` from `host_port` ("127.0.0.1:9464"), or "" on failure.
std::string HttpGet(const std::string& host_port, const std::string& path);

// The value of an unlabelled sample `name` in Prometheus text, or -1 when absent.
double MetricValue(const std::string& exposition, const std::string& name);

}  // namespace mw::testing

#endif  // MW_TESTING_HTTP_GET_H_
