Feature: Errors
  A wrong request gets a clear status and, on Connect and REST routes, a
  JSON body with the Connect error code.

  Background:
    Given the gpix server is running

  Scenario: an unknown route is 404
    When I GET "/no/such/route"
    Then the response status is 404
    And the response header "x-request-id" is present

  Scenario: an unknown method is 404 with code unimplemented
    When I POST JSON {} to "/gpix.v1.ImageService/NoSuchMethod"
    Then the response status is 404
    And the error code is "unimplemented"

  Scenario Outline: malformed JSON is invalid_argument over HTTP/<http>
    Given I use HTTP/<http>
    When I POST JSON {"unterminated to "/gpix.v1.ImageService/GetVersion"
    Then the response status is 400
    And the error code is "invalid_argument"

    Examples:
      | http |
      | 1.1  |
      | 2    |
