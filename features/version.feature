Feature: Service version
  Clients, scripts and the CLI ask the server which version it runs, over
  REST or over Connect, on HTTP/1.1 or HTTP/2.

  Background:
    Given the gpix server is running

  Scenario: REST GET /v1/version
    When I GET "/v1/version"
    Then the response status is 200
    And the response content type is "application/json"
    And the JSON field "version" is "v0.1.0"
    And the JSON field "apiVersion" is "gpix.v1"
    And the JSON field "startedAt" is a timestamp
    And the server log has a line matching "GetVersion called at \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}"

  Scenario Outline: Connect JSON over HTTP/<http>
    Given I use HTTP/<http>
    And the request header "x-request-id" is "bdd-version-<http>"
    When I POST JSON {} to "/gpix.v1.ImageService/GetVersion"
    Then the response status is 200
    And the response header "x-request-id" is "bdd-version-<http>"
    And the JSON field "version" is "v0.1.0"
    And the JSON field "apiVersion" is "gpix.v1"
    And the server log contains "bdd-version-<http>"

    Examples:
      | http |
      | 1.1  |
      | 2    |
