// A small HTTP server on loopback (an OS-chosen port) that serves bodies from memory, for tests
// of code that fetches files by URL: each path answers with its body, a status, or a redirect,
// and the server counts the requests each path got.
//
//   FileServer server;
//   server.Serve("/r1.jpg", jpeg);
//   server.Redirect("/away", "file:///etc/passwd");
//   Fetch(server.Url("/r1.jpg"));  ...  EXPECT_EQ(server.Hits("/r1.jpg"), 1);
#ifndef MW_TESTING_FILE_SERVER_H_
#define MW_TESTING_FILE_SERVER_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace httplib {
class Server;
}

namespace mw::testing {

class FileServer {
 public:
  FileServer();   // listening when it returns
  ~FileServer();  // stops and joins
  FileServer(const FileServer&) = delete;
  FileServer& operator=(const FileServer&) = delete;

  // GET `path` answers 200 with `body`.
  void Serve(const std::string& path, std::string body);
  // GET `path` answers 302 to `location`.
  void Redirect(const std::string& path, const std::string& location);
  // Any other path answers 404.

  // "http://127.0.0.1:PORT" + path.
  std::string Url(const std::string& path) const;
  int Hits(const std::string& path) const;

 private:
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex mu_;
  std::map<std::string, std::string> bodies_;
  std::map<std::string, std::string> redirects_;
  std::map<std::string, int> hits_;
};

}  // namespace mw::testing

#endif  // MW_TESTING_FILE_SERVER_H_
